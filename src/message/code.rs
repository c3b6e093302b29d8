//! Closed code sets of a MedCom message: the acknowledgement code (`MessageHeader.response.code`)
//! and the Provenance activity (`Provenance.activity`).
//!
//! The wire keeps what the sender wrote ([`super::Identity`] holds strings, so a wrong value can
//! be quoted in a finding); the harness decides with these types, parsed from the wire or from a
//! scenario.

use std::fmt;

/// `MessageHeader.response.code` (FHIR R4 ValueSet `response-code`): how a receiver answers a
/// message. MedCom's governance 040 names the codes by their HL7 v2 names, which map through the
/// `[rules] transient-error` setting ([`AckCodes`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AckCode {
    /// `ok`: the message was processed (KR3); HL7 v2 `AA`.
    Ok,
    /// `transient-error`: a technical error; the sender may resend (KR4).
    TransientError,
    /// `fatal-error`: the message is wrong and must not be resent as it is (KR6).
    FatalError,
}

impl AckCode {
    /// The code as FHIR writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            AckCode::Ok => "ok",
            AckCode::TransientError => "transient-error",
            AckCode::FatalError => "fatal-error",
        }
    }

    /// Reads a FHIR code (case-sensitive, as FHIR codes are); `None` for anything else.
    pub fn parse(text: &str) -> Option<AckCode> {
        match text {
            "ok" => Some(AckCode::Ok),
            "transient-error" => Some(AckCode::TransientError),
            "fatal-error" => Some(AckCode::FatalError),
            _ => None,
        }
    }
}

impl fmt::Display for AckCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! activities {
    ($( $(#[$doc:meta])* $name:ident = $code:literal, )*) => {
        /// A code of CodeSystem `medcom-messaging-activityCodes` (MedCom terminology 1.8.1): what
        /// the step of a message's history that a Provenance records did.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Activity {
            $( $(#[$doc])* $name, )*
        }

        impl Activity {
            /// Every code, in the CodeSystem's order.
            pub const ALL: &[Activity] = &[$(Activity::$name),*];

            /// The codes as written, in the CodeSystem's order.
            pub const CODES: &[&str] = &[$($code),*];

            /// The code as written.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( Activity::$name => $code, )*
                }
            }

            /// Reads a code (case-sensitive); `None` for a code outside the CodeSystem.
            pub fn parse(text: &str) -> Option<Activity> {
                match text {
                    $( $code => Some(Activity::$name), )*
                    _ => None,
                }
            }
        }
    };
}

activities! {
    /// `new-message`: a new message has been sent.
    NewMessage = "new-message",
    /// `forward-message`: a message has been forwarded.
    ForwardMessage = "forward-message",
    /// `reply-message`: a message has been replied to.
    ReplyMessage = "reply-message",
    /// `retract-message`: a message has been retracted.
    RetractMessage = "retract-message",
    /// `modified-message`: a message has been modified.
    ModifiedMessage = "modified-message",
    /// `carboncopy-message`: a copy to a carbon-copy receiver.
    CarboncopyMessage = "carboncopy-message",
    /// `admit-emergency`: start of an acute ambulant stay.
    AdmitEmergency = "admit-emergency",
    /// `revise-admit-emergency`.
    ReviseAdmitEmergency = "revise-admit-emergency",
    /// `cancel-admit-emergency`.
    CancelAdmitEmergency = "cancel-admit-emergency",
    /// `admit-inpatient`: start of an admitted stay.
    AdmitInpatient = "admit-inpatient",
    /// `revise-admit-inpatient`.
    ReviseAdmitInpatient = "revise-admit-inpatient",
    /// `cancel-admit-inpatient`.
    CancelAdmitInpatient = "cancel-admit-inpatient",
    /// `start-leave-inpatient`: start of leave.
    StartLeaveInpatient = "start-leave-inpatient",
    /// `revise-start-leave-inpatient`.
    ReviseStartLeaveInpatient = "revise-start-leave-inpatient",
    /// `cancel-start-leave-inpatient`.
    CancelStartLeaveInpatient = "cancel-start-leave-inpatient",
    /// `end-leave-inpatient`: end of leave.
    EndLeaveInpatient = "end-leave-inpatient",
    /// `revise-end-leave-inpatient`.
    ReviseEndLeaveInpatient = "revise-end-leave-inpatient",
    /// `cancel-end-leave-inpatient`.
    CancelEndLeaveInpatient = "cancel-end-leave-inpatient",
    /// `discharge-emergency-home`: end of an acute ambulant stay.
    DischargeEmergencyHome = "discharge-emergency-home",
    /// `discharge-inpatient-home`: end of an admitted stay.
    DischargeInpatientHome = "discharge-inpatient-home",
    /// `revise-discharge-emergency-home`.
    ReviseDischargeEmergencyHome = "revise-discharge-emergency-home",
    /// `revise-discharge-inpatient-home`.
    ReviseDischargeInpatientHome = "revise-discharge-inpatient-home",
    /// `cancel-discharge-emergency-home`.
    CancelDischargeEmergencyHome = "cancel-discharge-emergency-home",
    /// `cancel-discharge-inpatient-home`.
    CancelDischargeInpatientHome = "cancel-discharge-inpatient-home",
    /// `acknowledgement`: an acknowledgement has been sent.
    Acknowledgement = "acknowledgement",
}

impl Activity {
    /// Whether this is a HospitalNotification activity (admit, leave, discharge and their
    /// `revise-`/`cancel-` variants).
    pub fn is_hospital_notification(self) -> bool {
        let code = self.as_str();
        ["admit-", "start-leave-", "end-leave-", "discharge-"]
            .iter()
            .any(|p| {
                code.trim_start_matches("revise-")
                    .trim_start_matches("cancel-")
                    .starts_with(p)
            })
    }
}

impl fmt::Display for Activity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An HL7 v2 acknowledgement code (MSA-1), as MedCom's governance names the FHIR codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum V2Code {
    /// Application Accept: `ok`.
    AA,
    /// Application Error.
    AE,
    /// Application Reject.
    AR,
}

impl V2Code {
    /// `AA`, `AE` or `AR`.
    pub fn as_str(self) -> &'static str {
        match self {
            V2Code::AA => "AA",
            V2Code::AE => "AE",
            V2Code::AR => "AR",
        }
    }

    /// Parses `AA`, `AE` or `AR` (upper case, as in HL7 v2).
    pub fn parse(text: &str) -> Option<V2Code> {
        match text {
            "AA" => Some(V2Code::AA),
            "AE" => Some(V2Code::AE),
            "AR" => Some(V2Code::AR),
            _ => None,
        }
    }
}

/// Which HL7 v2 code `transient-error` and `fatal-error` stand for. `ok` is always `AA`.
///
/// Governance 040 maps KR4 (technical error) `transient-error` to AR and KR6 (profile validation
/// failure) `fatal-error` to AE; an older MedCom document swaps AE and AR. The default follows
/// governance 040; the other code goes to `fatal-error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckCodes {
    /// The v2 code of `transient-error`: `AR` (default) or `AE`.
    pub transient_error: V2Code,
}

impl Default for AckCodes {
    fn default() -> AckCodes {
        AckCodes {
            transient_error: V2Code::AR,
        }
    }
}

impl AckCodes {
    /// The v2 code of `fatal-error`: the one `transient-error` does not take.
    pub fn fatal_error(self) -> V2Code {
        match self.transient_error {
            V2Code::AE => V2Code::AR,
            _ => V2Code::AE,
        }
    }

    /// The v2 code of an acknowledgement code.
    pub fn v2(self, code: AckCode) -> V2Code {
        match code {
            AckCode::Ok => V2Code::AA,
            AckCode::TransientError => self.transient_error,
            AckCode::FatalError => self.fatal_error(),
        }
    }

    /// The acknowledgement code a scenario's code means: a FHIR code (`ok`, `transient-error`,
    /// `fatal-error`) is itself; an HL7 v2 name (`AA`, `AE`, `AR`) maps by this setting. `None` for
    /// anything else.
    pub fn fhir(self, code: &str) -> Option<AckCode> {
        if let Some(fhir) = AckCode::parse(code) {
            return Some(fhir);
        }
        Some(match V2Code::parse(code)? {
            V2Code::AA => AckCode::Ok,
            c if c == self.transient_error => AckCode::TransientError,
            _ => AckCode::FatalError,
        })
    }

    /// `fatal-error (AE)`: a code with its v2 name, for messages a person reads.
    pub fn label(self, code: AckCode) -> String {
        format!("{code} ({})", self.v2(code).as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activity_codes_are_those_of_medcoms_codesystem() {
        // CodeSystem-medcom-messaging-activityCodes.json (MedCom terminology 1.8.1) lists 25
        // codes, `new-message` first and `acknowledgement` last.
        assert_eq!(Activity::ALL.len(), 25);
        assert_eq!(Activity::CODES.first(), Some(&"new-message"));
        assert_eq!(Activity::CODES.last(), Some(&"acknowledgement"));
        for (a, code) in Activity::ALL.iter().zip(Activity::CODES) {
            assert_eq!(Activity::parse(code), Some(*a));
        }
        assert_eq!(Activity::parse("Reply-Message"), None);
    }

    #[test]
    fn eighteen_activities_belong_to_hospital_notification() {
        // The CodeSystem's admit/leave/discharge codes with their revise-/cancel- variants.
        let hn: Vec<_> = Activity::ALL
            .iter()
            .filter(|a| a.is_hospital_notification())
            .collect();
        assert_eq!(hn.len(), 18);
        assert!(!Activity::ReplyMessage.is_hospital_notification());
    }

    #[test]
    fn ack_codes_are_fhir_response_types() {
        for code in ["ok", "transient-error", "fatal-error"] {
            assert_eq!(AckCode::parse(code).map(AckCode::as_str), Some(code));
        }
        assert_eq!(AckCode::parse("AE"), None);
    }
}
