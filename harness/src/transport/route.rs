//! The route guard: before any connection to a lab node, the kernel's route to it must leave
//! through the lab bridge. Otherwise a packet meant for a lab address could go out on the
//! machine's real network, which the project forbids.

use std::{
    net::{IpAddr, Ipv4Addr},
    path::PathBuf,
};

use super::TransportError;

/// One IPv4 route from /proc/net/route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The interface.
    pub iface: String,
    /// Destination network.
    pub dest: Ipv4Addr,
    /// Netmask.
    pub mask: Ipv4Addr,
}

/// /proc/net/route writes addresses as host-order hex of network-order bytes.
fn hex_addr(s: &str) -> Option<Ipv4Addr> {
    u32::from_str_radix(s, 16)
        .ok()
        .map(|v| Ipv4Addr::from(v.to_le_bytes()))
}

/// Parses /proc/net/route text (header skipped, malformed lines ignored, only routes marked up).
pub fn parse_routes(text: &str) -> Vec<Route> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let flags = u32::from_str_radix(f.get(3)?, 16).ok()?;
            if flags & 1 == 0 {
                return None;
            }
            Some(Route {
                iface: f[0].to_owned(),
                dest: hex_addr(f.get(1)?)?,
                mask: hex_addr(f.get(7)?)?,
            })
        })
        .collect()
}

/// The interface of the longest-prefix route matching `ip`.
pub fn interface_for(routes: &[Route], ip: Ipv4Addr) -> Option<&str> {
    routes
        .iter()
        .filter(|r| u32::from(ip) & u32::from(r.mask) == u32::from(r.dest) & u32::from(r.mask))
        .max_by_key(|r| u32::from(r.mask).count_ones())
        .map(|r| r.iface.as_str())
}

/// Refuses connections to a fleet with a lab interface unless the route goes through it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteGuard {
    /// The fleet's `lab_interface`; `None` means no guard (e.g. the release fleet).
    pub lab_interface: Option<String>,
    /// The route table file (`/proc/net/route`).
    pub route_file: PathBuf,
}

impl RouteGuard {
    /// A guard for a fleet's lab interface reading the kernel's table.
    pub fn new(lab_interface: Option<String>) -> Self {
        Self {
            lab_interface,
            route_file: "/proc/net/route".into(),
        }
    }

    /// Ok when a connection to `ip` may be opened.
    pub fn check(&self, ip: IpAddr) -> Result<(), TransportError> {
        let Some(expected) = &self.lab_interface else {
            return Ok(());
        };
        let text = std::fs::read_to_string(&self.route_file).unwrap_or_default();
        check_text(&text, expected, ip)
    }
}

/// The guard's decision over a route table's text.
pub fn check_text(text: &str, expected: &str, ip: IpAddr) -> Result<(), TransportError> {
    let found = match ip {
        IpAddr::V4(v4) => interface_for(&parse_routes(text), v4).map(str::to_owned),
        IpAddr::V6(_) => None,
    };
    match found {
        Some(iface) if iface == expected => Ok(()),
        other => Err(TransportError::LabDown {
            addr: ip.to_string(),
            found: other.unwrap_or_else(|| "no route".into()),
            expected: expected.to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str =
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n";
    const DEFAULT: &str = "eth0\t00000000\t0100A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n";
    const LAN: &str = "eth0\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";
    const LAB: &str = "archy-lab0\t00004D0A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_addresses_in_kernel_byte_order() {
        let r = parse_routes(&format!("{HEADER}{DEFAULT}{LAB}"));
        assert_eq!(
            r[1],
            Route {
                iface: "archy-lab0".into(),
                dest: Ipv4Addr::new(10, 77, 0, 0),
                mask: Ipv4Addr::new(255, 255, 255, 0)
            }
        );
        assert_eq!(r[0].dest, Ipv4Addr::UNSPECIFIED);
    }

    #[test]
    fn lab_up_routes_lab_nodes_through_the_bridge() {
        let text = format!("{HEADER}{DEFAULT}{LAN}{LAB}");
        assert_eq!(check_text(&text, "archy-lab0", ip("10.77.0.228")), Ok(()));
        assert_eq!(
            interface_for(&parse_routes(&text), Ipv4Addr::new(192, 168, 0, 9)),
            Some("eth0")
        );
    }

    #[test]
    fn lab_down_refuses_with_the_lab_is_down_message() {
        let text = format!("{HEADER}{DEFAULT}");
        let e = check_text(&text, "archy-lab0", ip("10.77.0.228")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "lab is down: run harness lab up (the route to 10.77.0.228 goes through eth0, not archy-lab0)"
        );
        let e = check_text(HEADER, "archy-lab0", ip("10.77.0.198")).unwrap_err();
        assert!(e.to_string().contains("goes through no route"), "{e}");
    }

    #[test]
    fn down_routes_and_ipv6_are_refused() {
        let down = LAB.replace("\t0001\t", "\t0000\t");
        assert!(
            check_text(
                &format!("{HEADER}{DEFAULT}{down}"),
                "archy-lab0",
                ip("10.77.0.228")
            )
            .is_err()
        );
        assert!(check_text(&format!("{HEADER}{LAB}"), "archy-lab0", ip("::1")).is_err());
    }

    #[test]
    fn no_lab_interface_means_no_guard() {
        let g = RouteGuard {
            lab_interface: None,
            route_file: "/nonexistent".into(),
        };
        assert_eq!(g.check(ip("127.0.0.1")), Ok(()));
        let g = RouteGuard {
            lab_interface: Some("archy-lab0".into()),
            route_file: "/nonexistent".into(),
        };
        assert!(g.check(ip("10.77.0.228")).is_err());
    }
}
