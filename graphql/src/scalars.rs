//! Scalars of the schema: `BigInt` (a decimal string: amounts exceed 2^53), `Address` (0x hex,
//! checksummed on output, any case on input), `Bytes32` (0x hex, lower case) and the `Time`
//! object (unix seconds and ISO-8601).

use std::cmp::Ordering;
use std::str::FromStr;

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, SimpleObject, Value};

/// An integer of any size as a decimal string, e.g. `"1000000000000000000"`: unsigned
/// everywhere but `Job.output` (signed quantized values, e.g. `"-42"`).
/// Input also accepts a JSON integer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BigInt(pub String);

#[Scalar(name = "BigInt")]
impl ScalarType for BigInt {
    fn parse(value: Value) -> InputValueResult<Self> {
        let s = match &value {
            Value::String(s) => s.clone(),
            Value::Number(n) if n.as_u64().is_some() => n.to_string(),
            _ => {
                return Err(InputValueError::custom(
                    "BigInt is a decimal string such as \"1000\"",
                ));
            }
        };
        let trimmed = s.trim_start_matches('0');
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || s.len() > 78 {
            return Err(InputValueError::custom(format!(
                "BigInt {s:?} is not an unsigned decimal integer"
            )));
        }
        Ok(BigInt(if trimmed.is_empty() {
            "0".into()
        } else {
            trimmed.into()
        }))
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.clone())
    }
}

impl BigInt {
    pub fn of(s: &str) -> BigInt {
        BigInt(s.to_owned())
    }
}

/// Orders two canonical decimal strings (no leading zeros) numerically: by length, then text.
pub fn cmp_dec(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Sum of decimal strings (exact, 256 bits).
pub fn sum_dec<'a>(values: impl IntoIterator<Item = &'a str>) -> String {
    let mut total = alloy::primitives::U256::ZERO;
    for v in values {
        if let Ok(x) = alloy::primitives::U256::from_str(v) {
            total = total.saturating_add(x);
        }
    }
    total.to_string()
}

/// A 20-byte address: 0x hex, EIP-55 checksummed on output; input in any case.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Address(pub String);

#[Scalar(name = "Address")]
impl ScalarType for Address {
    fn parse(value: Value) -> InputValueResult<Self> {
        let Value::String(s) = &value else {
            return Err(InputValueError::custom(
                "Address is a 0x hex string of 20 bytes",
            ));
        };
        match alloy::primitives::Address::from_str(s) {
            Ok(a) if s.len() == 42 => Ok(Address(a.to_checksum(None))),
            _ => Err(InputValueError::custom(format!(
                "{s:?} is not an address (0x and 40 hex digits)"
            ))),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.clone())
    }
}

/// A 32-byte hash: 0x and 64 lower-case hex digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Bytes32(pub String);

#[Scalar(name = "Bytes32")]
impl ScalarType for Bytes32 {
    fn parse(value: Value) -> InputValueResult<Self> {
        let Value::String(s) = &value else {
            return Err(InputValueError::custom(
                "Bytes32 is a 0x hex string of 32 bytes",
            ));
        };
        let ok =
            s.len() == 66 && s.starts_with("0x") && s[2..].bytes().all(|b| b.is_ascii_hexdigit());
        if !ok {
            return Err(InputValueError::custom(format!(
                "{s:?} is not a 32-byte hash (0x and 64 hex digits)"
            )));
        }
        Ok(Bytes32(s.to_ascii_lowercase()))
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.clone())
    }
}

/// A point in time: unix seconds and the same instant as ISO-8601 (UTC).
#[derive(Clone, Debug, SimpleObject)]
pub struct Time {
    pub unix: i64,
    pub iso: String,
}

impl Time {
    pub fn at(unix: i64) -> Time {
        Time {
            unix,
            iso: iso8601(unix),
        }
    }

    pub fn opt(unix: Option<i64>) -> Option<Time> {
        unix.map(Time::at)
    }
}

/// `2024-01-02T03:04:05Z` (civil-from-days, proleptic Gregorian).
pub fn iso8601(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(iso8601(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn decimals_order_and_sum() {
        assert_eq!(cmp_dec("9", "10"), Ordering::Less);
        assert_eq!(
            sum_dec(["1", "99999999999999999999"]),
            "100000000000000000000"
        );
    }
}
