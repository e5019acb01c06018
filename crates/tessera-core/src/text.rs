//! Rules for the short texts people give (display names, task titles) that other people or
//! other pages show.
//!
//! **The rule:** such a text must contain at least one character that shows: not
//! whitespace, not a control character, and not one of Unicode's default-ignorable code
//! points — the bidirectional controls (U+202A–U+202E, U+2066–U+2069, U+200E/F, U+061C),
//! zero-width spaces and joiners, word joiners and invisible operators, variation selectors,
//! tag characters, the soft hyphen, Hangul fillers — nor the blank Braille pattern. A name
//! or title made only of those would render as nothing, or reverse the text around it, on
//! the sessions and tasks pages. Mixed into visible text they are kept (some scripts need
//! joiners and marks), and the web UI shows every such text isolated (`unicode-bidi:
//! isolate`), so a stray override cannot reach beyond it.

/// Whether `c` shows nothing by itself (see the module docs for the set).
pub fn is_invisible(c: char) -> bool {
    matches!(
        u32::from(c),
        0x00AD
            | 0x034F
            | 0x061C
            | 0x115F
            | 0x1160
            | 0x17B4
            | 0x17B5
            | 0x180B..=0x180F
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x206F
            | 0x2800
            | 0x3164
            | 0xFE00..=0xFE0F
            | 0xFEFF
            | 0xFFA0
            | 0xFFF0..=0xFFF8
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0000..=0xE0FFF
    )
}

/// Whether `s` has at least one character that shows.
pub fn has_visible(s: &str) -> bool {
    s.chars()
        .any(|c| !c.is_whitespace() && !c.is_control() && !is_invisible(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn invisible_only_texts_have_nothing_visible() {
        for s in [
            "",
            " ",
            "\u{202e}",
            "\u{202e}\u{202e}\u{2066}",
            "\u{200b}\u{200d}\u{feff}",
            "\u{3164}",
            "\u{2800} \u{2800}",
            "\u{e0041}\u{e007f}",
            "\u{ad}\u{fe0f}",
        ] {
            assert!(!has_visible(s), "{s:?}");
        }
    }

    #[test]
    fn visible_text_with_controls_mixed_in_is_kept() {
        for s in ["a", "\u{202e}abc", "क्\u{200d}ष", "👍\u{fe0f}", "李"] {
            assert!(has_visible(s), "{s:?}");
        }
    }

    proptest! {
        #[test]
        fn any_ascii_letter_makes_a_text_visible(pad in "[\u{200b}-\u{200f}\u{202a}-\u{202e} ]{0,8}", c in "[a-zA-Z0-9]") {
            let text = format!("{pad}{c}{pad}");
            prop_assert!(has_visible(&text));
            prop_assert!(!has_visible(&pad));
        }
    }
}
