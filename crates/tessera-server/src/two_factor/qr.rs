//! The QR code of an `otpauth://` URI as an SVG document, drawn here: the enrolment page
//! loads nothing from elsewhere, and the key never leaves the server in a third party's URL.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// An SVG of `text` (medium error correction, a quiet zone, black on white); empty if the
/// text is too long for a QR code (a URI this server writes never is).
pub(crate) fn svg(text: &str) -> String {
    match QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M) {
        Ok(code) => code
            .render::<svg::Color<'_>>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn draws_an_svg_without_external_references() {
        let s = super::svg(
            "otpauth://totp/Tessera:a%40b.test?secret=JBSWY3DPEHPK3PXP&issuer=Tessera&digits=6&period=30",
        );
        assert!(s.contains("<svg"), "{s}");
        assert!(!s.contains("href"), "nothing loaded from elsewhere");
        assert!(super::svg(&"x".repeat(8000)).is_empty());
    }
}
