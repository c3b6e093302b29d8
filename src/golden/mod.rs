//! Golden comparison: does a message the vendor's system produced match the expected message?
//!
//! A *golden* is an expected message, FHIR JSON or FHIR XML, in which values may be
//! *placeholders*. [`compare()`] checks an actual message against it structurally and returns a
//! [`Comparison`]: the [`Difference`]s, each at a path, and a unified diff for people. A mismatch is
//! data, never an error; [`GoldenError`] means the comparison could not be made (an unreadable
//! document, a broken golden, a bad option). [`render_normalized`] writes a message in the
//! normalized form the diff shows, for `--update-golden`. A run reads each golden once:
//! [`PreparedGolden`] is a golden parsed for many comparisons, and [`GoldenCache`] keeps one per
//! file for as long as the file's bytes stay the same.
//!
//! # Formats
//!
//! The format is told by the first character that is not whitespace (after an optional UTF-8 byte
//! order mark): `{` is JSON, `<` is XML (a UTF-16 byte order mark is XML too). JSON must be UTF-8.
//! A FHIR message may be compared across its two forms: an actual message in FHIR XML is read into
//! FHIR JSON for a JSON golden, one in FHIR JSON is written as FHIR XML for an XML golden, both
//! by the harness's R4 converter ([`crate::fhir::xml`]), so the golden, its placeholders, its
//! paths and the patterns stay as written ([`GoldenError::NotFhir`] when the actual message is
//! not FHIR R4). XML outside the FHIR namespace (OIOXML, envelopes) compares only with XML. XML is decoded by its byte order
//! mark or XML declaration, as every XML reader of the harness decodes
//! ([`crate::encoding::decode_xml`]): an ISO-8859-1 OIOXML receipt equals its UTF-8 golden when
//! they hold the same characters.
//!
//! - **JSON** is compared by value. Object members match by name, in any order. Arrays are ordered:
//!   item `i` is compared with item `i`, and surplus items are missing or unexpected. Numbers are
//!   compared as serde_json writes them, so `1.50` equals `1.5` but `1` differs from `1.0`. A
//!   string never equals a number, even one with the same text.
//! - **XML** is compared by structure: elements by namespace URI and local name (prefixes never
//!   matter), attributes by namespace and local name in any order, text exactly. Comments,
//!   processing instructions, the XML declaration and whitespace-only text are ignored; text
//!   split by a comment is joined. Element order matters: siblings are aligned by name, so an
//!   extra or missing element is reported once, not as a shift of all later siblings. A document
//!   with a DOCTYPE is refused, because DTDs allow entity-expansion attacks and FHIR never needs
//!   them. Elements nested deeper than 128 levels are refused to protect the stack, the same
//!   limit serde_json sets for JSON.
//!
//! # FHIR's own equality
//!
//! Where FHIR R4 says two different-looking messages are the same, so does the comparison
//! (DOMAIN.md §2, §7):
//!
//! - **Message Bundle entries.** In a golden `Bundle` of `type` `message`, `entry[0]` (the
//!   MessageHeader) is compared with `entry[0]`, and the other entries as a set, never by
//!   position (`bdl-12`): an entry pairs with the actual entry of the same `fullUrl`, else the
//!   same resource type and id, else the one entry holding one of its resource's identifiers
//!   (system and value), looked up in maps; a golden key with a placeholder left open
//!   (`urn:uuid:{{uuid}}`, `{{id}}`) is no key, a `{{capture:…}}` is. Entries left without a key
//!   pair with leftover entries of the same resource type by content, as unordered items do
//!   (below). A changed entry is reported at the golden's path; one the actual message lacks is
//!   missing; one the golden lacks is unexpected, at the actual message's path. This holds in
//!   JSON and in FHIR XML, with or without an `unordered` option; other Bundles stay ordered.
//! - **base64Binary** (`Attachment.data`, `Binary.data`, `Signature.data`, …, typed by the R4
//!   model) compares by its bytes: whitespace and line breaks in the lexical form do not count.
//!   A value that does not decode is compared as written. `SampledData.data` is a string, where
//!   spaces do count.
//!
//! # Placeholders
//!
//! A golden string (JSON) or attribute value or text (XML) may hold placeholders, alone or mixed
//! with literal text (`"urn:uuid:{{uuid}}"`, `"MessageHeader/{{capture:first.letter-id}}"`):
//!
//! | placeholder | matches |
//! |---|---|
//! | `{{any}}` | anything. As a whole JSON value it also matches a number, boolean, null, object or array; as the whole content of an XML element it matches any content, child elements included. Inside a larger string it matches any run of characters, the empty one too. |
//! | `{{uuid}}` | a UUID of any version: 8-4-4-4-12 hex digits with hyphens, either case |
//! | `{{id}}` | a FHIR id: `[A-Za-z0-9\-\.]{1,64}` |
//! | `{{datetime}}` | a FHIR instant, a dateTime with time and time zone: `YYYY-MM-DDThh:mm:ss(.s+)?(Z\|±hh:mm)` |
//! | `{{capture:NAME}}` | exactly the value captured under `NAME` in [`CompareOptions::captures`]; as a whole JSON value it also matches a number or boolean whose JSON text is that value |
//!
//! A `{{…}}` that is none of these is an error ([`GoldenError::UnknownPlaceholder`]), and so is a
//! capture name that was not captured ([`GoldenError::UnknownCapture`]); both are checked over the
//! whole golden before comparing. There is no escape for a literal `{{name}}`. A placeholder still
//! requires its member, attribute or element to be present. Member names and element names are
//! always literal.
//!
//! # Paths
//!
//! Every [`Difference`] has the golden's path to it (an unexpected one has the actual message's):
//!
//! - **JSON**: FHIRPath-like, member names joined by `.`, array positions in brackets counted
//!   from 0, without the resource type: `entry[0].resource.response.identifier`.
//! - **XML**: from the root element, steps joined by `/`, local names without prefixes, an
//!   attribute as `@name`, text as `text()`: `/Bundle/entry[0]/resource/MessageHeader/response/identifier/@value`.
//!   A position, counted from 0 among the siblings with the same name, is written only where
//!   the golden or the actual message has more than one such sibling.
//!
//! # Patterns
//!
//! [`CompareOptions::ignore`] and [`CompareOptions::unordered`] take patterns in the path syntax of
//! the golden's format, with two wildcards: `*` stands for any one name, `[*]` for any position.
//! A pattern matches a path of the same length, step by step. A pattern in the other format's
//! syntax, or one that cannot be parsed, is an error ([`GoldenError::BadPath`]).
//!
//! - JSON: `entry[*].resource.meta`, `entry[*].resource.text`, `entry[0].*.id`. A name never
//!   matches a position: `entry.resource` does not match `entry[0].resource`.
//! - XML: `/Bundle/entry/resource/*/meta`, `/*/entry[*]/resource/*/text`, `/Bundle/id/@value`,
//!   `/Bundle/entry/resource/Patient/text/div/text()`. An element step without a position
//!   matches every position, as in XPath; `[N]` matches position `N` only. Names are local names;
//!   a prefix (`f:Bundle`) is an error.
//!
//! An **ignored** path is left out on both sides, with everything below it: neither its presence
//! nor its value is compared, and it is not in the diff.
//!
//! An **unordered** pattern names a JSON array (`entry`, or equally `entry[*]`) or an XML parent
//! element (`/Bundle`) whose items or children may come in any order. Each golden item, in order,
//! is paired with the first free actual item it matches exactly; each golden item still alone is
//! then paired with the free actual item with the fewest differences (among items of the same JSON
//! type, or any item for a golden string with placeholders; among XML children of the same name),
//! and those differences are reported. Golden items left over are
//! missing, actual items left over are unexpected.
//!
//! # The diff
//!
//! Each [`Difference`] reads as where, what was expected and what was found, in words:
//! ``` `entry[0].resource.response.code`: expected `"ok"`, found `"fatal-error"` ```,
//! `` `entry[2]`: missing, expected `{…}` ``, `` `entry[3]`: not in the golden, found `{…}` ``,
//! `` `id`: expected a value matching `{{uuid}}`, found `"x"` ``.
//!
//! [`Comparison::diff`] is a unified diff (header `--- golden` / `+++ actual`, three lines of
//! context) between the normalized pretty forms of the two documents, in which values of the
//! actual message that satisfied a placeholder are shown as the placeholder, ignored paths are
//! removed from both sides, and unordered items are shown in the order they were paired in. So
//! `-` and `+` lines appear only for real differences, and the diff is empty on a match.
//!
//! The normalized form, also written by [`render_normalized`], drops what the comparison ignores.
//! JSON members are written `resourceType` first, then sorted by name, two spaces per level. XML
//! is written without comments, processing instructions or whitespace-only text, with attributes
//! sorted, and without the input's prefixes: every element is unprefixed, with an `xmlns="…"`
//! where its namespace differs from its parent's, and a namespaced attribute gets a prefix `ns0`,
//! `ns1`, … declared on its own element (`xml:` stays). An element whose content holds text is
//! written on one line as it is, because whitespace inside text is significant.

mod cache;
mod compare;
mod error;
mod fhir;
mod normalize;
mod path;
mod placeholder;

pub use cache::GoldenCache;
pub use compare::{
    CompareOptions, Comparison, Difference, DifferenceKind, PreparedGolden, compare,
};
pub use error::{GoldenError, PatternOption, Side};
pub use normalize::{Format, render_normalized};
pub use placeholder::generalize;
