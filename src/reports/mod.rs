//! Machine-readable reports for CI systems: JUnit (one test case per item) and SARIF 2.1.0
//! (one rule per item) for code-scanning views. Text and JSON live in `render`.

pub mod junit;
pub mod sarif;
