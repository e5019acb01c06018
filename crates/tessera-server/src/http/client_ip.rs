//! Who is calling, as far as the network can tell. The socket peer is the client, unless it
//! is one of the configured trusted proxies: then `X-Forwarded-For` is walked from the right,
//! skipping trusted hops, and the first untrusted address is the client. A client can put
//! anything in the left part of that header, so nothing left of the first untrusted hop is
//! ever believed.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use http::request::Parts;

/// An IP network in CIDR form (`10.0.0.0/8`, `::1/128`, or a bare address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl std::str::FromStr for Cidr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("{s:?} is not an IP address or CIDR range (like 10.0.0.0/8)");
        let (ip, prefix) = match s.trim().split_once('/') {
            Some((ip, p)) => (ip, Some(p.parse::<u8>().map_err(|_| bad())?)),
            None => (s.trim(), None),
        };
        let addr: IpAddr = ip.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        if prefix > max {
            return Err(bad());
        }
        Ok(Self { addr, prefix })
    }
}

impl Cidr {
    /// Whether `ip` is inside this network (IPv4-mapped IPv6 counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Resolves the client address from the peer and the `X-Forwarded-For` values.
pub fn resolve(peer: IpAddr, forwarded_for: &[&str], trusted: &[Cidr]) -> IpAddr {
    let peer = canonical(peer);
    if !trusted.iter().any(|c| c.contains(peer)) {
        return peer;
    }
    let mut client = peer;
    let hops = forwarded_for.iter().rev().flat_map(|v| v.rsplit(','));
    for hop in hops {
        let Ok(ip) = hop.trim().parse::<IpAddr>() else {
            // garbage in the chain: stop at the last address we could trust to have written it
            return client;
        };
        let ip = canonical(ip);
        client = ip;
        if !trusted.iter().any(|c| c.contains(ip)) {
            return ip;
        }
    }
    client
}

/// The resolved client IP of a request.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

/// The proxies whose `X-Forwarded-For` is believed; a state provides it through `FromRef`.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub std::sync::Arc<[Cidr]>);

impl<S> FromRequestParts<S> for ClientIp
where
    TrustedProxies: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>().copied()
        else {
            return Ok(Self(None));
        };
        let xff: Vec<&str> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        let trusted = TrustedProxies::from_ref(state);
        Ok(Self(Some(resolve(peer.ip(), &xff, &trusted.0))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|_| unreachable!())
    }
    fn cidrs(v: &[&str]) -> Vec<Cidr> {
        v.iter()
            .map(|s| s.parse().unwrap_or_else(|e| panic!("{e}")))
            .collect()
    }

    #[test]
    fn untrusted_peers_are_the_client_whatever_they_claim() {
        assert_eq!(
            resolve(ip("203.0.113.9"), &["1.2.3.4"], &[]),
            ip("203.0.113.9")
        );
        assert_eq!(
            resolve(ip("203.0.113.9"), &["1.2.3.4"], &cidrs(&["10.0.0.0/8"])),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn trusted_proxies_are_walked_from_the_right() {
        let t = cidrs(&["10.0.0.0/8"]);
        assert_eq!(
            resolve(ip("10.0.0.1"), &["198.51.100.7"], &t),
            ip("198.51.100.7")
        );
        // the client prepended a lie; only the hop our proxy appended counts
        assert_eq!(
            resolve(ip("10.0.0.1"), &["6.6.6.6, 198.51.100.7"], &t),
            ip("198.51.100.7")
        );
        assert_eq!(
            resolve(ip("10.0.0.1"), &["198.51.100.7, 10.0.0.2"], &t),
            ip("198.51.100.7")
        );
        assert_eq!(
            resolve(ip("10.0.0.1"), &["6.6.6.6", "198.51.100.8"], &t),
            ip("198.51.100.8")
        );
        assert_eq!(resolve(ip("10.0.0.1"), &[], &t), ip("10.0.0.1"));
        assert_eq!(resolve(ip("10.0.0.1"), &["garbage"], &t), ip("10.0.0.1"));
    }

    #[test]
    fn cidr_parsing_and_matching() {
        let c: Cidr = "192.168.0.0/16".parse().unwrap_or_else(|e| panic!("{e}"));
        assert!(c.contains(ip("192.168.4.5")));
        assert!(!c.contains(ip("192.169.0.1")));
        assert!(c.contains(ip("::ffff:192.168.1.1")));
        let v6: Cidr = "fd00::/8".parse().unwrap_or_else(|e| panic!("{e}"));
        assert!(v6.contains(ip("fd12::1")));
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("nonsense".parse::<Cidr>().is_err());
        let all: Cidr = "0.0.0.0/0".parse().unwrap_or_else(|e| panic!("{e}"));
        assert!(all.contains(ip("8.8.8.8")));
    }
}
