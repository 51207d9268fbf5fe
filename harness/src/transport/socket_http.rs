//! HTTP/1.0 over a node's unix socket (podman's REST API), carried by an SSH socket channel
//! ([`super::SshPool::forward`]). One request per channel: HTTP/1.0 makes the server close the
//! socket after its answer, so the answer is everything read until then, never chunked.

/// The request's bytes: `GET path` with no body.
pub fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.0\r\nHost: d\r\n\r\n").into_bytes()
}

/// An answer's status and body, or why it is not an HTTP answer (a cut-short body included).
pub fn parse(answer: &str) -> Result<(u16, String), String> {
    let shown = || answer.chars().take(120).collect::<String>();
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("not an HTTP answer (no end of headers): {:?}", shown()))?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.strip_prefix("HTTP/1."))
        .and_then(|l| l.get(2..5))
        .and_then(|c| c.parse::<u16>().ok())
        .ok_or_else(|| format!("not an HTTP status line: {:?}", shown()))?;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!("bad header line {line:?}"));
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(format!("unexpected transfer-encoding {value} for HTTP/1.0"));
        }
        if name.eq_ignore_ascii_case("content-length") {
            let want: usize = value
                .parse()
                .map_err(|_| format!("bad content-length {value:?}"))?;
            if body.len() != want {
                return Err(format!(
                    "the body has {} bytes, its content-length says {want}",
                    body.len()
                ));
            }
        }
    }
    Ok((status, body.to_owned()))
}

/// `s` as one path segment: anything but unreserved characters percent-encoded.
pub fn segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_get_is_one_http_1_0_request_with_no_body() {
        assert_eq!(
            get("/v4.0.0/libpod/containers/lab-chain/json"),
            b"GET /v4.0.0/libpod/containers/lab-chain/json HTTP/1.0\r\nHost: d\r\n\r\n"
        );
    }

    #[test]
    fn an_answer_gives_its_status_and_body() {
        let a = "HTTP/1.0 200 OK\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\n\
                 Content-Length: 9\r\n\r\n{\"a\":[1]}";
        assert_eq!(parse(a), Ok((200, "{\"a\":[1]}".into())));
        let none = "HTTP/1.1 204 No Content\r\nDate: x\r\n\r\n";
        assert_eq!(parse(none), Ok((204, String::new())));
    }

    #[test]
    fn a_cut_or_foreign_answer_is_an_error_naming_what_is_wrong() {
        let cut = "HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\n{\"a\"";
        assert_eq!(
            parse(cut),
            Err("the body has 4 bytes, its content-length says 10".into())
        );
        assert_eq!(
            parse("SSH-2.0-OpenSSH\r\n"),
            Err("not an HTTP answer (no end of headers): \"SSH-2.0-OpenSSH\\r\\n\"".into())
        );
        assert_eq!(
            parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n"),
            Err("unexpected transfer-encoding chunked for HTTP/1.0".into())
        );
        assert_eq!(
            parse("HTTP/2 200\r\n\r\n"),
            Err("not an HTTP status line: \"HTTP/2 200\\r\\n\\r\\n\"".into())
        );
    }

    #[test]
    fn a_segment_keeps_names_and_encodes_the_rest() {
        assert_eq!(segment("lab-chain_1.x"), "lab-chain_1.x");
        assert_eq!(segment("a/b c?"), "a%2Fb%20c%3F");
    }
}
