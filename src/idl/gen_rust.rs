use super::check::Model;
use super::{GeneratedFile, IdlError, Options};
pub fn generate(_m: &Model, _base: &str, _o: &Options) -> Result<Vec<GeneratedFile>, IdlError> {
    Ok(vec![])
}
