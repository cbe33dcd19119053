//! Kafka error codes → kraftd errors: the one place a response's `error_code` (and its optional
//! `error_message`) becomes text, and the one place that says whether it is worth retrying.

use kafka_protocol::ResponseError;
use kafka_protocol::protocol::StrBytes;
use std::fmt;

/// Kafka error code → its name, e.g. `NotLeaderOrFollower (code 6)`; "NONE" for 0.
pub fn error_name(code: i16) -> String {
    match ResponseError::try_from_code(code) {
        None => "NONE".to_string(),
        Some(e) => format!("{e} (code {code})"),
    }
}

/// Whether the Kafka protocol marks this error code as retriable.
pub fn is_retriable(code: i16) -> bool {
    ResponseError::try_from_code(code).is_some_and(|e| e.is_retriable())
}

/// A non-zero error code in an answer, with the broker's message when it sent one. Displays as
/// `<name> (code N)[: <message>]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ApiError {
    pub code: i16,
    pub message: Option<String>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&error_name(self.code))?;
        if let Some(m) = &self.message {
            write!(f, ": {m}")?;
        }
        Ok(())
    }
}

impl ApiError {
    pub fn is_retriable(&self) -> bool {
        is_retriable(self.code)
    }
}

/// Ok for code 0, else the error with the broker's message.
pub fn check(code: i16, message: Option<&StrBytes>) -> Result<(), ApiError> {
    if code == 0 {
        return Ok(());
    }
    Err(ApiError {
        code,
        message: message.map(|m| m.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_become_names_with_the_brokers_message() {
        assert_eq!(error_name(0), "NONE");
        assert!(check(0, None).is_ok());
        let e = check(
            36,
            Some(&StrBytes::from_static_str("Topic 't' already exists.")),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("{}: Topic 't' already exists.", error_name(36))
        );
        assert!(e.to_string().contains("(code 36)"), "{e}");
        assert!(!e.is_retriable());
        let e = check(6, None).unwrap_err();
        assert_eq!(e.to_string(), error_name(6));
        assert!(e.is_retriable(), "NOT_LEADER_OR_FOLLOWER is retriable");
    }
}
