//! Which part of the network an IP address reaches.
//!
//! Threat: an `http.fetch` scope that allows "any host" (or a name the page
//! controls the DNS of) reaching this machine or the user's network: the
//! loopback (`127.0.0.0/8`, `::1`, and `0.0.0.0`, which Linux connects to
//! the local host), the private ranges, link-local addresses (cloud
//! metadata at `169.254.169.254`). A deny list of names cannot cover every
//! spelling of those addresses, so the address actually connected to is
//! classified, after resolution (see `api::http`). Ranges follow the IANA
//! special-purpose registries (RFC 6890 and its updates); IPv6 forms that
//! embed an IPv4 address (mapped, compatible, NAT64, 6to4) are classified by
//! the IPv4 address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What an address reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach {
    /// The internet.
    Public,
    /// This machine: `127.0.0.0/8`, `::1`, `0.0.0.0/8`, `::`.
    Loopback,
    /// The user's networks: RFC 1918, shared address space (`100.64.0.0/10`),
    /// unique local IPv6 (`fc00::/7`), site-local (`fec0::/10`).
    Private,
    /// `169.254.0.0/16`, `fe80::/10`.
    LinkLocal,
    /// Multicast, broadcast, documentation, benchmarking and reserved
    /// ranges: never a server an app means to reach.
    Special,
}

impl Reach {
    pub(crate) fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => v4_reach(v4),
            IpAddr::V6(v6) => v6_reach(v6),
        }
    }

    /// A word for messages.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Reach::Public => "a public address",
            Reach::Loopback => "this machine (loopback)",
            Reach::Private => "a private network address",
            Reach::LinkLocal => "a link-local address",
            Reach::Special => "a reserved address",
        }
    }
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], bits: u32) -> bool {
    let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
    u32::from(ip) & mask == u32::from(Ipv4Addr::from(net)) & mask
}

fn v4_reach(ip: Ipv4Addr) -> Reach {
    const LOOPBACK: &[([u8; 4], u32)] = &[([127, 0, 0, 0], 8), ([0, 0, 0, 0], 8)];
    const PRIVATE: &[([u8; 4], u32)] = &[
        ([10, 0, 0, 0], 8),
        ([172, 16, 0, 0], 12),
        ([192, 168, 0, 0], 16),
        ([100, 64, 0, 0], 10),
    ];
    const SPECIAL: &[([u8; 4], u32)] = &[
        ([192, 0, 0, 0], 24),    // IETF protocol assignments
        ([192, 0, 2, 0], 24),    // documentation
        ([198, 51, 100, 0], 24), // documentation
        ([203, 0, 113, 0], 24),  // documentation
        ([198, 18, 0, 0], 15),   // benchmarking
        ([224, 0, 0, 0], 4),     // multicast
        ([240, 0, 0, 0], 4),     // reserved, and the broadcast address
    ];
    let any = |list: &[([u8; 4], u32)]| list.iter().any(|(n, b)| in_v4(ip, *n, *b));
    if any(LOOPBACK) {
        Reach::Loopback
    } else if any(PRIVATE) {
        Reach::Private
    } else if in_v4(ip, [169, 254, 0, 0], 16) {
        Reach::LinkLocal
    } else if any(SPECIAL) {
        Reach::Special
    } else {
        Reach::Public
    }
}

fn v6_reach(ip: Ipv6Addr) -> Reach {
    let s = ip.segments();
    let embedded = |hi: usize| {
        Ipv4Addr::new(
            (s[hi] >> 8) as u8,
            s[hi] as u8,
            (s[hi + 1] >> 8) as u8,
            s[hi + 1] as u8,
        )
    };
    if ip.is_unspecified() || ip.is_loopback() {
        return Reach::Loopback;
    }
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_reach(v4);
    }
    // IPv4-compatible (deprecated, `::a.b.c.d`) and NAT64 (`64:ff9b::/96`).
    if s[..6] == [0; 6] || s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return v4_reach(embedded(6));
    }
    // 6to4 (`2002:AABB:CCDD::/48`).
    if s[0] == 0x2002 {
        return v4_reach(embedded(1));
    }
    match s[0] {
        x if x & 0xfe00 == 0xfc00 => Reach::Private, // fc00::/7
        x if x & 0xffc0 == 0xfec0 => Reach::Private, // fec0::/10
        x if x & 0xffc0 == 0xfe80 => Reach::LinkLocal, // fe80::/10
        x if x & 0xff00 == 0xff00 => Reach::Special, // multicast
        0x2001 if s[1] == 0x0db8 => Reach::Special,  // documentation
        0x0100 if s[1..4] == [0, 0, 0] => Reach::Special, // discard-only
        _ => Reach::Public,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reach(s: &str) -> Reach {
        Reach::of(s.parse().unwrap())
    }

    #[test]
    fn every_spelling_of_this_machine_is_loopback() {
        for a in [
            "127.0.0.1",
            "127.0.0.2",
            "127.255.255.254",
            "0.0.0.0",
            "0.1.2.3",
            "::1",
            "::",
            "::ffff:127.0.0.1",
            "::ffff:0.0.0.0",
            "::127.0.0.1",
            "64:ff9b::7f00:1",
            "2002:7f00:1::1",
        ] {
            assert_eq!(reach(a), Reach::Loopback, "{a}");
        }
    }

    #[test]
    fn private_link_local_and_special_ranges() {
        for a in [
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "100.64.0.1",
            "fd00::1",
            "fc00::1",
            "fec0::1",
            "::ffff:10.1.2.3",
        ] {
            assert_eq!(reach(a), Reach::Private, "{a}");
        }
        for a in ["169.254.169.254", "fe80::1", "::ffff:169.254.169.254"] {
            assert_eq!(reach(a), Reach::LinkLocal, "{a}");
        }
        for a in [
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "ff02::1",
            "2001:db8::1",
            "100::1",
        ] {
            assert_eq!(reach(a), Reach::Special, "{a}");
        }
    }

    #[test]
    fn the_internet_is_public() {
        for a in [
            "1.1.1.1",
            "8.8.8.8",
            "172.32.0.1",
            "172.15.255.255",
            "100.128.0.1",
            "169.255.0.1",
            "2606:4700:4700::1111",
            "2001:4860::8888",
            "::ffff:8.8.8.8",
        ] {
            assert_eq!(reach(a), Reach::Public, "{a}");
        }
    }

    #[test]
    fn ipv4_ranges_agree_with_std_where_std_says() {
        // std's stable predicates cover part of the table: check agreement.
        for n in (0u32..=u32::MAX).step_by(65_521) {
            let ip = Ipv4Addr::from(n);
            let r = v4_reach(ip);
            if ip.is_loopback() {
                assert_eq!(r, Reach::Loopback, "{ip}");
            }
            if ip.is_private() {
                assert_eq!(r, Reach::Private, "{ip}");
            }
            if ip.is_link_local() {
                assert_eq!(r, Reach::LinkLocal, "{ip}");
            }
            if ip.is_multicast() || ip.is_documentation() || ip.is_broadcast() {
                assert_eq!(r, Reach::Special, "{ip}");
            }
        }
    }
}
