//! Webhooks' rules (Standard Webhooks): event types and subscriptions, signatures and secrets,
//! the retry schedule, and which addresses careloop may deliver to.

use std::net::IpAddr;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::Sha256;

use super::change::{ChangeAction, ChangeType};
use super::concern::ConcernStatus;
use super::improvement::{ActionStatus, PlanStatus};

/// The event `POST /v1/webhooks/{webhook_id}/test` sends.
pub const PING: &str = "ping";

/// The event a transition to `state` also is: `concern.acknowledged`, `improvement_plan.completed`,
/// and for an action's `done`, `action.completed`.
pub fn state_event(record_type: ChangeType, state: &str) -> String {
    let state = match (record_type, state) {
        (ChangeType::Action, "done") => "completed",
        (_, state) => state,
    };
    format!("{record_type}.{state}")
}

/// The states a record type's transitions reach, as event names (`action.completed`).
fn state_events(record_type: ChangeType) -> Vec<String> {
    let states: Vec<&str> = match record_type {
        ChangeType::Concern => ConcernStatus::ALL.iter().map(|s| s.as_str()).collect(),
        ChangeType::ImprovementPlan => PlanStatus::ALL.iter().map(|s| s.as_str()).collect(),
        ChangeType::Action => ActionStatus::ALL.iter().map(|s| s.as_str()).collect(),
        _ => Vec::new(),
    };
    states
        .into_iter()
        .map(|state| state_event(record_type, state))
        .collect()
}

/// Whether an endpoint may subscribe to `event_type`: `*`, `{type}.*`, `{type}.{action}`
/// (`concern.created`), or a transition's new state (`action.completed`).
pub fn is_known_event_type(event_type: &str) -> bool {
    if event_type == "*" {
        return true;
    }
    let Some((kind, what)) = event_type.split_once('.') else {
        return false;
    };
    let Some(kind) = ChangeType::parse(kind) else {
        return false;
    };
    what == "*"
        || ChangeAction::parse(what).is_some()
        || state_events(kind).iter().any(|known| known == event_type)
}

/// The event type an endpoint subscribed to `subscribed` receives for a change, or `None` when
/// it did not subscribe to it: `{type}.{action}`, or the state event (`action.completed`) when
/// it subscribed to that by name.
pub fn event_for(
    subscribed: &[String],
    record_type: ChangeType,
    action: ChangeAction,
    to_state: Option<&str>,
) -> Option<String> {
    let general = format!("{record_type}.{action}");
    let state = to_state
        .filter(|_| action == ChangeAction::Transitioned)
        .map(|state| state_event(record_type, state));
    if let Some(state) = state.filter(|state| subscribed.contains(state)) {
        return Some(state);
    }
    let wildcard = format!("{record_type}.*");
    subscribed
        .iter()
        .any(|s| s == "*" || *s == wildcard || *s == general)
        .then_some(general)
}

/// A new endpoint secret: `whsec_` and 32 random bytes, base64 (as Standard Webhooks says).
pub fn new_secret() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    format!("whsec_{}", STANDARD.encode(bytes))
}

/// The `webhook-signature` of a message for one secret: `v1,` and the base64 HMAC-SHA256 of
/// `{id}.{timestamp}.{body}`, keyed with the secret's bytes. `None` for a malformed secret.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let key = STANDARD.decode(secret.strip_prefix("whsec_")?).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    Some(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// How long after each failed attempt the next one comes (before jitter): Standard Webhooks'
/// schedule, eight attempts over about a day. After the last, the delivery has failed.
const RETRY_AFTER_SECONDS: [i64; 7] = [5, 300, 1800, 7200, 18000, 36000, 36000];

/// When to try again after failed attempt number `attempt` (from 1), with up to a fifth more or
/// less at random so that many endpoints failing at once do not retry in step; `None` when the
/// attempts are used up.
pub fn next_attempt(attempt: i32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let base = *RETRY_AFTER_SECONDS.get(usize::try_from(attempt - 1).ok()?)?;
    let jitter = rand::rng().random_range(-base / 5..=base / 5);
    Some(now + Duration::seconds(base + jitter))
}

/// Whether careloop may deliver to this address: not loopback, private, link-local (cloud
/// metadata lives there), shared, unspecified, broadcast, documentation or multicast.
pub fn is_public(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || a >= 240
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (18..20).contains(&b)))
        }
        IpAddr::V6(v6) => {
            let segments = v6.segments();
            let octets = v6.octets();
            // An IPv4 address inside an IPv6 one is judged as the IPv4 address: mapped
            // (::ffff:a.b.c.d), compatible (::a.b.c.d), NAT64 (64:ff9b::a.b.c.d) and 6to4
            // (2002:aabb:ccdd::).
            let embedded = if let Some(v4) = v6.to_ipv4() {
                Some(v4)
            } else if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                Some(std::net::Ipv4Addr::new(
                    octets[12], octets[13], octets[14], octets[15],
                ))
            } else if segments[0] == 0x2002 {
                Some(std::net::Ipv4Addr::new(
                    octets[2], octets[3], octets[4], octets[5],
                ))
            } else {
                None
            };
            if let Some(v4) = embedded.filter(|_| !v6.is_loopback() && !v6.is_unspecified()) {
                return is_public(IpAddr::V4(v4));
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (segments[0] & 0xfe00) == 0xfc00
                || (segments[0] & 0xffc0) == 0xfe80)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_specifications_test_vector_signs_as_published() {
        // From the Standard Webhooks specification's reference implementations.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let signed = signature(
            secret,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(
            signed.as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
        assert_eq!(signature("nope", "id", 1, b""), None);
        assert!(new_secret().starts_with("whsec_"));
        assert!(signature(&new_secret(), "id", 1, b"{}").is_some());
    }

    #[test]
    fn subscriptions_match_types_actions_and_new_states() {
        use ChangeAction::*;
        use ChangeType::*;
        let subscribed = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let any = subscribed(&["*"]);
        assert_eq!(
            event_for(&any, Concern, Created, None).as_deref(),
            Some("concern.created")
        );
        let concerns = subscribed(&["concern.*"]);
        assert_eq!(event_for(&concerns, Evidence, Created, None), None);
        let created = subscribed(&["concern.created"]);
        assert_eq!(event_for(&created, Concern, Updated, None), None);
        let completed = subscribed(&["action.completed"]);
        assert_eq!(
            event_for(&completed, Action, Transitioned, Some("done")).as_deref(),
            Some("action.completed")
        );
        assert_eq!(
            event_for(&completed, Action, Transitioned, Some("cancelled")),
            None
        );
        let moved = subscribed(&["concern.transitioned"]);
        assert_eq!(
            event_for(&moved, Concern, Transitioned, Some("acknowledged")).as_deref(),
            Some("concern.transitioned")
        );
    }

    #[test]
    fn known_event_types() {
        for known in [
            "*",
            "concern.*",
            "concern.created",
            "concern.acknowledged",
            "action.completed",
            "improvement_plan.completed",
        ] {
            assert!(is_known_event_type(known), "{known}");
        }
        for unknown in [
            "",
            "concern",
            "concern.completed",
            "nothing.created",
            "ping",
            "action.done",
        ] {
            assert!(!is_known_event_type(unknown), "{unknown}");
        }
    }

    #[test]
    fn retries_back_off_over_about_a_day_with_jitter() {
        let now = Utc::now();
        let mut total = Duration::zero();
        for attempt in 1..=7 {
            let next = next_attempt(attempt, now).unwrap();
            let base = Duration::seconds(RETRY_AFTER_SECONDS[attempt as usize - 1]);
            let gap = next - now;
            assert!(
                gap >= base * 4 / 5 && gap <= base * 6 / 5,
                "{attempt}: {gap}"
            );
            total += base;
        }
        assert_eq!(next_attempt(8, now), None);
        assert!(total > Duration::hours(20) && total < Duration::hours(30));
    }

    #[test]
    fn only_public_addresses_are_delivered_to() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:a9fe:a9fe::1",
            "198.18.0.1",
            "240.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in [
            "8.8.8.8",
            "2606:4700:4700::1111",
            "::ffff:1.1.1.1",
            "64:ff9b::808:808",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }
}
