//! Helpers shared by the integration tests.
use bridgert::{Error, Status, Value};

/// A value algorithm for the runtime tests: multiplies `values` by `factor`.
/// A zero factor is a Rust error (OUT_OF_RANGE), a negative one panics, so
/// one function exercises the success, error and panic paths.
pub fn scale(params: &Value) -> bridgert::Result<Value> {
    let factor = params.get_key("factor")?.as_number()?;
    if factor == 0.0 {
        return Err(Error::new(Status::OutOfRange, "factor 0 would erase the values; expected non-zero"));
    }
    if factor < 0.0 {
        panic!("negative factor {factor}");
    }
    let values = params.get_key("values")?;
    let mut out = Value::array()?;
    for i in 0..values.len()? {
        out.push(&Value::float(values.get(i)?.as_number()? * factor)?)?;
    }
    Ok(out)
}
