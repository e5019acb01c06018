//! Documentation derived from what is mounted: each extractor in a handler's signature says
//! what it adds to the operation ([`Describe`]), and [`super::Routes::add`] applies the
//! whole argument list ([`DescribeArgs`]). A handler that takes [`CurrentSession`] is
//! documented as needing a session, one that takes a rate-limit or origin-check extractor
//! as rate-limited or origin-checked — and a table cannot claim either for a handler that
//! does not enforce it.
//!
//! [`CurrentSession`]: crate::session::CurrentSession

use axum::extract::{Path, RawQuery, State};
use http::{HeaderMap, Method};

use super::{Auth, Operation};
use crate::http::client_ip::ClientIp;
use crate::http::origin::{OriginChecked, OriginRuleKind};
use crate::http::rate_limit::{RateLimit, RuleKind};
use crate::http::{JsonBody, JsonOrFormBody};

/// What one extractor adds to the documentation of the operation it is mounted on.
pub(crate) trait Describe {
    /// `op` with what this extractor enforces.
    fn describe(op: Operation) -> Operation {
        op
    }
}

/// The documentation a handler's whole argument list adds (axum's `Handler<T, S>` `T`).
pub(crate) trait DescribeArgs {
    /// `op` with what every argument enforces, in order.
    fn describe(op: Operation) -> Operation;
}

macro_rules! describe_args {
    ($($arg:ident),*) => {
        impl<M, $($arg: Describe,)*> DescribeArgs for (M, $($arg,)*) {
            #[allow(unused_mut)]
            fn describe(mut op: Operation) -> Operation {
                $(op = $arg::describe(op);)*
                op
            }
        }
    };
}

describe_args!();
describe_args!(T1);
describe_args!(T1, T2);
describe_args!(T1, T2, T3);
describe_args!(T1, T2, T3, T4);
describe_args!(T1, T2, T3, T4, T5);
describe_args!(T1, T2, T3, T4, T5, T6);
describe_args!(T1, T2, T3, T4, T5, T6, T7);
describe_args!(T1, T2, T3, T4, T5, T6, T7, T8);

// Extractors that enforce nothing the document records beyond what the table says.
impl<S> Describe for State<S> {}
impl<T> Describe for Path<T> {}
impl Describe for RawQuery {}
impl Describe for HeaderMap {}
impl Describe for Method {}
impl Describe for ClientIp {}
impl Describe for JsonBody {}
impl Describe for JsonOrFormBody {}

impl<R: RuleKind> Describe for RateLimit<R> {
    fn describe(op: Operation) -> Operation {
        op.rate_limited()
    }
}

impl<R: OriginRuleKind> Describe for OriginChecked<R> {
    fn describe(op: Operation) -> Operation {
        op.origin_checked()
    }
}

impl Describe for tessera_verify::OwnerOf {
    fn describe(op: Operation) -> Operation {
        op.auth(Auth::AccessToken)
    }
}

impl Describe for tessera_verify::MfaUser {
    fn describe(op: Operation) -> Operation {
        op.auth(Auth::AccessToken)
            .error(&[crate::http::ErrorCode::MfaRequired])
    }
}
