//! Typed ids at the port, where two ids (or an id and another string) sit side by side in
//! one call and swapping them would still compile: `get_task(UserId(..), TaskId(..))`,
//! `revoke_user_sessions(UserId(..), Some(SessionId(..)), ..)`. They borrow the caller's
//! string: naming the kind at the call site is the point, not validation (ids are checked
//! at the edge, `tessera_core::id::looks_like_id`).

use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name<'a>(pub &'a str);

        impl<'a> $name<'a> {
            /// The id as stored.
            pub fn as_str(&self) -> &'a str {
                self.0
            }
        }

        impl fmt::Debug for $name<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({:?})"), self.0)
            }
        }

        impl fmt::Display for $name<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.0)
            }
        }
    };
}

id_type!(
    /// A user's id.
    UserId
);
id_type!(
    /// A session's id (the `sid` of access tokens).
    SessionId
);
id_type!(
    /// A task's id.
    TaskId
);
