//! FHIR R4 XML <-> JSON conversion (temporary placeholder while the converter lands).
#[derive(Debug, thiserror::Error)]
pub enum XmlError {
    #[error("FHIR XML is not supported yet")]
    Unsupported,
}
pub fn xml_to_json(_bytes: &[u8]) -> Result<serde_json::Value, XmlError> {
    Err(XmlError::Unsupported)
}
pub fn json_to_xml(_v: &serde_json::Value) -> Result<String, XmlError> {
    Err(XmlError::Unsupported)
}
