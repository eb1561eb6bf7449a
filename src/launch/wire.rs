//! The message a second launch sends the running instance: its command
//! line's arguments, bounded and versioned.
//!
//! `MOAT-LAUNCH` and a version byte (1), then a big-endian `u16` count (at
//! most [`MAX_ARGS`]) and, for each argument, a big-endian `u16` length (at
//! most [`MAX_ARG_BYTES`]) and that many bytes of UTF-8. Nothing may follow.
//! Whoever connects may send anything: the parser reads only within the
//! bounds it checked, and is a fuzz target (`fuzz::launch_message`).

/// The message's first bytes.
const MAGIC: &[u8] = b"MOAT-LAUNCH";
/// The format this build reads and writes.
const VERSION: u8 = 1;
/// The most arguments one launch hands over.
pub(crate) const MAX_ARGS: usize = 16;
/// The longest argument, in bytes.
pub(crate) const MAX_ARG_BYTES: usize = 4096;
/// The longest message: the most the listener reads from a connection.
pub(crate) const MAX_MESSAGE: usize = MAGIC.len() + 1 + 2 + MAX_ARGS * (2 + MAX_ARG_BYTES);

/// Why a message was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WireError {
    NotALaunch,
    Version(u8),
    Truncated,
    TooManyArgs(usize),
    ArgTooLong(usize),
    NotUtf8,
    Trailing(usize),
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireError::NotALaunch => f.write_str("not a launch message"),
            WireError::Version(v) => {
                write!(f, "launch message version {v}, this build reads {VERSION}")
            }
            WireError::Truncated => f.write_str("the message ends inside an argument"),
            WireError::TooManyArgs(n) => write!(f, "{n} arguments, at most {MAX_ARGS}"),
            WireError::ArgTooLong(n) => {
                write!(f, "an argument of {n} bytes, at most {MAX_ARG_BYTES}")
            }
            WireError::NotUtf8 => f.write_str("an argument is not UTF-8"),
            WireError::Trailing(n) => write!(f, "{n} bytes after the last argument"),
        }
    }
}

/// The message for `args`; arguments past the bounds are an error, not cut.
pub(crate) fn encode(args: &[String]) -> Result<Vec<u8>, WireError> {
    if args.len() > MAX_ARGS {
        return Err(WireError::TooManyArgs(args.len()));
    }
    let mut out = Vec::with_capacity(MAGIC.len() + 3);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.extend_from_slice(&(args.len() as u16).to_be_bytes());
    for a in args {
        if a.len() > MAX_ARG_BYTES {
            return Err(WireError::ArgTooLong(a.len()));
        }
        out.extend_from_slice(&(a.len() as u16).to_be_bytes());
        out.extend_from_slice(a.as_bytes());
    }
    Ok(out)
}

/// The arguments in `message`, or why it is refused.
pub(crate) fn parse(message: &[u8]) -> Result<Vec<String>, WireError> {
    let rest = message.strip_prefix(MAGIC).ok_or(WireError::NotALaunch)?;
    let (&version, rest) = rest.split_first().ok_or(WireError::Truncated)?;
    if version != VERSION {
        return Err(WireError::Version(version));
    }
    let (count, mut rest) = take_u16(rest)?;
    if count > MAX_ARGS {
        return Err(WireError::TooManyArgs(count));
    }
    let mut args = Vec::with_capacity(count);
    for _ in 0..count {
        let (len, after) = take_u16(rest)?;
        if len > MAX_ARG_BYTES {
            return Err(WireError::ArgTooLong(len));
        }
        let bytes = after.get(..len).ok_or(WireError::Truncated)?;
        let arg = std::str::from_utf8(bytes).map_err(|_| WireError::NotUtf8)?;
        args.push(arg.to_owned());
        rest = &after[len..];
    }
    if !rest.is_empty() {
        return Err(WireError::Trailing(rest.len()));
    }
    Ok(args)
}

fn take_u16(bytes: &[u8]) -> Result<(usize, &[u8]), WireError> {
    match bytes {
        [a, b, rest @ ..] => Ok((usize::from(u16::from_be_bytes([*a, *b])), rest)),
        _ => Err(WireError::Truncated),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_round_trip() {
        let args = vec![
            "moat-demo://open/a?b=c".to_owned(),
            String::new(),
            "é".repeat(100),
        ];
        assert_eq!(parse(&encode(&args).unwrap()).unwrap(), args);
        assert_eq!(parse(&encode(&[]).unwrap()).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn every_malformed_message_is_refused_with_its_reason() {
        let good = encode(&["x".to_owned()]).unwrap();
        assert_eq!(parse(b"hello"), Err(WireError::NotALaunch));
        let mut v2 = good.clone();
        v2[MAGIC.len()] = 2;
        assert_eq!(parse(&v2), Err(WireError::Version(2)));
        assert_eq!(parse(&good[..good.len() - 1]), Err(WireError::Truncated));
        let mut trailing = good.clone();
        trailing.push(0);
        assert_eq!(parse(&trailing), Err(WireError::Trailing(1)));
        let mut many = MAGIC.to_vec();
        many.push(VERSION);
        many.extend_from_slice(&17u16.to_be_bytes());
        assert_eq!(parse(&many), Err(WireError::TooManyArgs(17)));
        let mut long = MAGIC.to_vec();
        long.push(VERSION);
        long.extend_from_slice(&1u16.to_be_bytes());
        long.extend_from_slice(&5000u16.to_be_bytes());
        assert_eq!(parse(&long), Err(WireError::ArgTooLong(5000)));
        let mut bad = MAGIC.to_vec();
        bad.push(VERSION);
        bad.extend_from_slice(&1u16.to_be_bytes());
        bad.extend_from_slice(&1u16.to_be_bytes());
        bad.push(0xff);
        assert_eq!(parse(&bad), Err(WireError::NotUtf8));
        assert_eq!(
            encode(&vec!["a".to_owned(); 17]),
            Err(WireError::TooManyArgs(17))
        );
        assert_eq!(
            encode(&["a".repeat(4097)]),
            Err(WireError::ArgTooLong(4097))
        );
    }
}
