//! The route guard: before any connection to a lab node the kernel is asked which interface a
//! packet to the node would leave by, and it must be the lab bridge. Otherwise a packet meant for
//! a lab address could go out on the machine's real network, which the project forbids.
//!
//! The question goes to the kernel itself (`RTM_GETROUTE` over netlink, the lookup `ip route get`
//! makes), so route metrics, policy rules and the harness's own uid count exactly as they do for
//! a real socket. Lab sockets are also bound to the bridge (`SO_BINDTODEVICE`): a route that
//! changes between the check and the connect still cannot carry them anywhere else.

use std::{
    ffi::CString,
    io,
    net::{IpAddr, SocketAddr, TcpStream},
    os::fd::{AsRawFd, FromRawFd, OwnedFd},
    time::Duration,
};

use super::TransportError;

/// Refuses connections to a fleet with a lab interface unless the kernel routes them through it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteGuard {
    /// The fleet's `lab_interface`; `None` means no guard (e.g. the release fleet).
    pub lab_interface: Option<String>,
}

impl RouteGuard {
    /// A guard for a fleet's lab interface.
    pub fn new(lab_interface: Option<String>) -> Self {
        Self { lab_interface }
    }

    /// Ok when a connection to `ip` may be opened: no lab interface, or the kernel's route to
    /// `ip` leaves through it.
    pub fn check(&self, ip: IpAddr) -> Result<(), TransportError> {
        let Some(expected) = &self.lab_interface else {
            return Ok(());
        };
        if interface_index(expected).is_none() {
            return Err(TransportError::LabDown {
                interface: expected.clone(),
            });
        }
        match egress_interface(ip) {
            Ok(found) if found == *expected => Ok(()),
            Ok(found) => Err(TransportError::OffLab {
                addr: ip.to_string(),
                found,
                expected: expected.clone(),
            }),
            Err(e) => Err(TransportError::OffLab {
                addr: ip.to_string(),
                found: format!("no interface ({e})"),
                expected: expected.clone(),
            }),
        }
    }

    /// A TCP connection to `addr`, checked by the guard and bound to the lab interface when there
    /// is one, without Nagle's algorithm (TCP_NODELAY): SSH's requests are small packets that
    /// each wait for an answer, and with Nagle each could sit out the peer's delayed ACK (40 ms
    /// for every channel an SSH command opens, measured against a loopback sshd). `node` names
    /// the node in errors.
    pub fn connect(
        &self,
        node: &str,
        addr: SocketAddr,
        timeout: Duration,
    ) -> Result<TcpStream, TransportError> {
        self.check(addr.ip())?;
        let fail = |reason: String| connect_error(node, addr, reason);
        let socket = socket2::Socket::new(
            socket2::Domain::for_address(addr),
            socket2::Type::STREAM,
            Some(socket2::Protocol::TCP),
        )
        .map_err(|e| fail(e.to_string()))?;
        if let Some(iface) = &self.lab_interface {
            socket
                .bind_device(Some(iface.as_bytes()))
                .map_err(|e| fail(bind_reason(iface, &e)))?;
        }
        socket
            .set_tcp_nodelay(true)
            .map_err(|e| fail(e.to_string()))?;
        socket
            .connect_timeout(&addr.into(), timeout)
            .map_err(|e| fail(e.to_string()))?;
        Ok(socket.into())
    }

    /// The async form of [`RouteGuard::connect`], for checks running on tokio.
    pub async fn connect_async(
        &self,
        node: &str,
        addr: SocketAddr,
        timeout: Duration,
    ) -> Result<tokio::net::TcpStream, TransportError> {
        self.check(addr.ip())?;
        let fail = |reason: String| connect_error(node, addr, reason);
        let socket = match addr {
            SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4(),
            SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6(),
        }
        .map_err(|e| fail(e.to_string()))?;
        if let Some(iface) = &self.lab_interface {
            socket
                .bind_device(Some(iface.as_bytes()))
                .map_err(|e| fail(bind_reason(iface, &e)))?;
        }
        socket.set_nodelay(true).map_err(|e| fail(e.to_string()))?;
        match tokio::time::timeout(timeout, socket.connect(addr)).await {
            Ok(Ok(stream)) => Ok(stream),
            Ok(Err(e)) => Err(fail(e.to_string())),
            Err(_) => Err(fail(format!("no answer within {}s", timeout.as_secs_f64()))),
        }
    }
}

fn connect_error(node: &str, addr: SocketAddr, reason: String) -> TransportError {
    TransportError::Connect {
        node: node.to_owned(),
        addr: addr.to_string(),
        reason,
    }
}

fn bind_reason(iface: &str, e: &io::Error) -> String {
    format!("failed to bind the socket to {iface} (SO_BINDTODEVICE): {e}")
}

/// The index of interface `name`, `None` when there is no such interface.
pub fn interface_index(name: &str) -> Option<u32> {
    let c = CString::new(name).ok()?;
    // SAFETY: `c` is a valid NUL-terminated string for the duration of the call.
    let index = unsafe { libc::if_nametoindex(c.as_ptr()) };
    (index != 0).then_some(index)
}

fn interface_name(index: u32) -> io::Result<String> {
    let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: `buf` has the IF_NAMESIZE bytes if_indextoname may write.
    let p = unsafe { libc::if_indextoname(index, buf.as_mut_ptr()) };
    if p.is_null() {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: on success if_indextoname wrote a NUL-terminated name into `buf`.
    let name = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
    Ok(name.to_string_lossy().into_owned())
}

const NLMSG_HDR: usize = 16;
const RTMSG: usize = 12;
const RTM_NEWROUTE: u16 = 24;
const NLMSG_ERROR: u16 = 2;
const NLM_F_REQUEST: u16 = 1;

/// The `RTM_GETROUTE` request for `ip` (a netlink header, an `rtmsg`, one `RTA_DST`).
fn route_request(ip: IpAddr, seq: u32) -> Vec<u8> {
    let (family, addr): (u8, Vec<u8>) = match ip {
        IpAddr::V4(v4) => (libc::AF_INET as u8, v4.octets().to_vec()),
        IpAddr::V6(v6) => (libc::AF_INET6 as u8, v6.octets().to_vec()),
    };
    let attr_len = 4 + addr.len();
    let total = NLMSG_HDR + RTMSG + attr_len;
    let mut m = Vec::with_capacity(total);
    m.extend_from_slice(&(total as u32).to_ne_bytes());
    m.extend_from_slice(&libc::RTM_GETROUTE.to_ne_bytes());
    m.extend_from_slice(&NLM_F_REQUEST.to_ne_bytes());
    m.extend_from_slice(&seq.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes());
    // rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags.
    m.extend_from_slice(&[family, (addr.len() * 8) as u8, 0, 0, 0, 0, 0, 0]);
    m.extend_from_slice(&0u32.to_ne_bytes());
    m.extend_from_slice(&(attr_len as u16).to_ne_bytes());
    m.extend_from_slice(&libc::RTA_DST.to_ne_bytes());
    m.extend_from_slice(&addr);
    m
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// The outgoing interface index in the kernel's answer to request `seq`.
fn parse_route_reply(reply: &[u8], seq: u32) -> io::Result<u32> {
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_owned());
    let mut at = 0;
    while at + NLMSG_HDR <= reply.len() {
        let len = u32_at(reply, at).unwrap_or(0) as usize;
        if len < NLMSG_HDR || at + len > reply.len() {
            return Err(bad("truncated netlink message"));
        }
        let msg = &reply[at..at + len];
        let kind = u16_at(msg, 4).unwrap_or(0);
        if u32_at(msg, 8) == Some(seq) {
            match kind {
                NLMSG_ERROR => {
                    let errno = u32_at(msg, NLMSG_HDR).unwrap_or(0) as i32;
                    return Err(io::Error::from_raw_os_error(-errno));
                }
                RTM_NEWROUTE => {
                    let mut a = NLMSG_HDR + RTMSG;
                    while a + 4 <= msg.len() {
                        let alen = u16_at(msg, a).unwrap_or(0) as usize;
                        if alen < 4 || a + alen > msg.len() {
                            break;
                        }
                        if u16_at(msg, a + 2) == Some(libc::RTA_OIF) {
                            return u32_at(msg, a + 4).ok_or_else(|| bad("short RTA_OIF"));
                        }
                        a += (alen + 3) & !3;
                    }
                    return Err(bad("the route names no outgoing interface"));
                }
                _ => {}
            }
        }
        at += (len + 3) & !3;
    }
    Err(bad("no answer to the route query"))
}

/// The interface the kernel would send a packet to `ip` out of (`ip route get`), asked over
/// netlink in this process's network namespace. An unreachable address is an error.
pub fn egress_interface(ip: IpAddr) -> io::Result<String> {
    // SAFETY: plain socket(2); the descriptor is owned right below.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::NETLINK_ROUTE,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor nobody else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let timeout = libc::timeval {
        tv_sec: 2,
        tv_usec: 0,
    };
    // SAFETY: `timeout` is a valid timeval of the size passed.
    unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&timeout as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    let seq = std::process::id() ^ 0x6861_726e;
    let req = route_request(ip, seq);
    // SAFETY: a zeroed sockaddr_nl is valid; with pid 0 it addresses the kernel.
    let mut kernel: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    kernel.nl_family = libc::AF_NETLINK as libc::sa_family_t;
    // SAFETY: `req` and `kernel` are valid for the lengths given.
    let sent = unsafe {
        libc::sendto(
            fd.as_raw_fd(),
            req.as_ptr().cast(),
            req.len(),
            0,
            (&kernel as *const libc::sockaddr_nl).cast(),
            std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
        )
    };
    if sent < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut buf = vec![0u8; 8192];
    // SAFETY: `buf` is valid for writes of its length.
    let n = unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let index = parse_route_reply(&buf[..n as usize], seq)?;
    interface_name(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_request_is_one_getroute_for_a_host_address() {
        let r = route_request(ip("10.77.0.228"), 7);
        assert_eq!(r.len(), 36);
        assert_eq!(u32_at(&r, 0), Some(36));
        assert_eq!(u16_at(&r, 4), Some(libc::RTM_GETROUTE));
        assert_eq!(u32_at(&r, 8), Some(7));
        assert_eq!(&r[16..18], &[libc::AF_INET as u8, 32]);
        assert_eq!(u16_at(&r, 28), Some(8));
        assert_eq!(u16_at(&r, 30), Some(libc::RTA_DST));
        assert_eq!(&r[32..], &[10, 77, 0, 228]);
        assert_eq!(route_request(ip("::1"), 7).len(), 48);
    }

    fn reply(kind: u16, seq: u32, body: &[u8]) -> Vec<u8> {
        let mut m = Vec::new();
        m.extend_from_slice(&((NLMSG_HDR + body.len()) as u32).to_ne_bytes());
        m.extend_from_slice(&kind.to_ne_bytes());
        m.extend_from_slice(&0u16.to_ne_bytes());
        m.extend_from_slice(&seq.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(body);
        m
    }

    #[test]
    fn the_reply_gives_the_outgoing_interface_or_the_kernel_error() {
        let mut route = vec![0u8; RTMSG];
        // RTA_TABLE (skipped), then RTA_OIF = 5.
        route.extend_from_slice(&8u16.to_ne_bytes());
        route.extend_from_slice(&libc::RTA_TABLE.to_ne_bytes());
        route.extend_from_slice(&254u32.to_ne_bytes());
        route.extend_from_slice(&8u16.to_ne_bytes());
        route.extend_from_slice(&libc::RTA_OIF.to_ne_bytes());
        route.extend_from_slice(&5u32.to_ne_bytes());
        assert_eq!(
            parse_route_reply(&reply(RTM_NEWROUTE, 9, &route), 9).unwrap(),
            5
        );
        let unreachable = reply(NLMSG_ERROR, 9, &(-libc::ENETUNREACH).to_ne_bytes());
        assert_eq!(
            parse_route_reply(&unreachable, 9)
                .unwrap_err()
                .raw_os_error(),
            Some(libc::ENETUNREACH)
        );
        assert!(parse_route_reply(&reply(RTM_NEWROUTE, 8, &route), 9).is_err());
        assert!(parse_route_reply(&route[..3], 9).is_err());
    }

    #[test]
    fn the_kernel_routes_loopback_through_lo() {
        assert_eq!(egress_interface(ip("127.0.0.1")).unwrap(), "lo");
        let g = RouteGuard::new(Some("lo".into()));
        assert_eq!(g.check(ip("127.0.0.1")), Ok(()));
    }

    #[test]
    fn a_missing_lab_interface_means_the_lab_is_down() {
        let g = RouteGuard::new(Some("harness-none0".into()));
        let e = g.check(ip("127.0.0.1")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "lab is down: run harness lab up (there is no interface harness-none0)"
        );
    }

    #[test]
    fn no_lab_interface_means_no_guard() {
        assert_eq!(RouteGuard::new(None).check(ip("192.0.2.1")), Ok(()));
    }
}
