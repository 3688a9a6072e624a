//! Values from Rust: building, reading, JSON, tensors over blocks, schemas,
//! and every error path.
use bridgert::{Block, Dtype, Kind, Schema, Status, Value};

#[test]
fn scalars_round_trip_and_wrong_kinds_are_type_mismatches() {
    assert_eq!(Value::null().unwrap().kind(), Kind::Null);
    assert!(Value::bool(true).unwrap().as_bool().unwrap());
    assert_eq!(Value::int(-7).unwrap().as_int().unwrap(), -7);
    assert_eq!(Value::float(2.5).unwrap().as_float().unwrap(), 2.5);
    assert_eq!(Value::int(3).unwrap().as_number().unwrap(), 3.0);
    assert_eq!(Value::string("héllo\0x").unwrap().as_str().unwrap(), "héllo\0x");
    assert_eq!(Value::bytes(&[0, 255]).unwrap().as_bytes().unwrap(), &[0, 255]);

    let error = Value::string("text").unwrap().as_int().unwrap_err();
    assert_eq!(error.status(), Status::TypeMismatch);
    assert!(error.message().contains("expected int, got string"), "{}", error.message());
    assert_eq!(Value::int(1).unwrap().as_float().unwrap_err().status(), Status::TypeMismatch);
    assert_eq!(Value::int(1).unwrap().len().unwrap_err().status(), Status::TypeMismatch);
    assert_eq!(Value::int(1).unwrap().as_str().unwrap_err().status(), Status::TypeMismatch);
    assert_eq!(Value::string("s").unwrap().as_bytes().unwrap_err().status(), Status::TypeMismatch);
    assert_eq!(Value::null().unwrap().as_bool().unwrap_err().status(), Status::TypeMismatch);
    assert_eq!(Value::int(1).unwrap().get(0).unwrap_err().status(), Status::TypeMismatch);
    assert_eq!(Value::array().unwrap().get_key("k").unwrap_err().status(), Status::TypeMismatch);
    assert!(Value::array().unwrap().is_empty().unwrap());
}

#[test]
fn containers_build_read_and_seal() {
    let mut point = Value::object().unwrap();
    point.set("x", &Value::int(1).unwrap()).unwrap();
    point.set("y", &Value::float(2.0).unwrap()).unwrap();
    let mut list = Value::array().unwrap();
    list.push(&point).unwrap();
    list.push(&Value::string("end").unwrap()).unwrap();
    assert_eq!(list.len().unwrap(), 2);
    assert_eq!(list.get(0).unwrap(), point);
    assert_eq!(list.to_json().unwrap(), r#"[{"x":1,"y":2.0},"end"]"#);
    let keys: Vec<String> = point.entries().unwrap().into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys, ["x", "y"]);

    let error = list.get(5).unwrap_err();
    assert_eq!(error.status(), Status::OutOfRange);
    let error = point.get_key("z").unwrap_err();
    assert_eq!(error.status(), Status::NotFound);
    assert!(error.message().contains('z'), "{}", error.message());
    assert_eq!(Value::int(1).unwrap().entries().unwrap_err().status(), Status::TypeMismatch);

    // `point` is inside `list`: shared (two references), so it cannot change.
    let error = point.set("z", &Value::null().unwrap()).unwrap_err();
    assert_eq!(error.status(), Status::Permission);
    drop(list);
    // Unique again, but sealed by C: still refused.
    let error = point.set("z", &Value::null().unwrap()).unwrap_err();
    assert_eq!(error.status(), Status::Permission, "{error}");
    let mut not_array = Value::int(4).unwrap();
    assert_eq!(not_array.push(&point).unwrap_err().status(), Status::TypeMismatch);
}

#[test]
fn a_container_cannot_hold_itself() {
    let mut list = Value::array().unwrap();
    let same = list.clone();
    assert_eq!(list.push(&same).unwrap_err().status(), Status::Permission, "shared handles refuse first");
    drop(same);
    let raw = list.as_raw();
    // SAFETY: the C call itself with the same value, as C code could make it.
    let status = unsafe { bridgert::sys::brt_value_array_push(raw as *mut _, raw) };
    assert_eq!(status, bridgert::sys::BRT_E_INVALID_ARGUMENT);
}

#[test]
fn json_errors_name_where_and_what() {
    let value = Value::from_json(r#"{"a": [1, 2.5, "x"], "b": null}"#).unwrap();
    assert_eq!(value.get_key("a").unwrap().get(1).unwrap().as_float().unwrap(), 2.5);
    let error = Value::from_json(r#"{"a": [1, }"#).unwrap_err();
    assert_eq!(error.status(), Status::Conversion);
    assert!(error.message().contains("line 1"), "{}", error.message());
    assert_eq!(Value::from_json("123456789012345678901234").unwrap_err().status(), Status::OutOfRange);
    assert_eq!(Value::from_json(&"[".repeat(2000)).unwrap_err().status(), Status::LimitExceeded);
    assert_eq!(Value::from_json("").unwrap_err().status(), Status::Conversion);
    let tensor = Value::from_json_flags("[[1, 2], [3, 4]]", bridgert::sys::BRT_JSON_TENSORS).unwrap();
    assert_eq!(tensor.kind(), Kind::Tensor);
    assert_eq!(tensor.tensor_slice::<f64>().unwrap(), &[1.0, 2.0, 3.0, 4.0]);
    let error = Value::from_json_flags("[[1, 2], [3]]", bridgert::sys::BRT_JSON_TENSORS).unwrap_err();
    assert_eq!(error.status(), Status::Conversion, "a ragged tensor: {error}");
    let error = Value::float(f64::NAN).unwrap().to_json().unwrap_err();
    assert_eq!(error.status(), Status::Conversion);
    assert_eq!(Value::bytes(b"ab").unwrap().to_json().unwrap_err().status(), Status::Conversion);
}

#[test]
fn tensors_share_a_block_without_copying() {
    let mut block = Block::<f64>::from_slice(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
    let tensor = Value::tensor_from_block(&block, &[2, 3]).unwrap();
    assert_eq!(block.refcount(), 2, "the tensor retains the block");
    assert_eq!(tensor.tensor_slice::<f64>().unwrap().as_ptr(), block.as_ptr(), "zero-copy");
    assert_eq!(tensor.tensor_get_f64(&[1, 2]).unwrap(), 6.0);
    // SAFETY: a write through the block Rust allocated is seen by the tensor.
    unsafe { *block.as_mut_ptr().add(1) = 20.0 };
    assert_eq!(tensor.tensor_get_f64(&[0, 1]).unwrap(), 20.0);
    let info = tensor.tensor_info().unwrap();
    assert_eq!((info.dtype, info.shape.as_slice(), info.count), (Some(Dtype::F64), &[2usize, 3][..], 6));
    assert_eq!(tensor.to_json().unwrap(), "[[1.0,20.0,3.0],[4.0,5.0,6.0]]");
    drop(tensor);
    assert_eq!(block.refcount(), 1);

    let error = Value::tensor_from_block(&block, &[4, 4]).unwrap_err();
    assert_eq!(error.status(), Status::OutOfRange, "{error}");
    let error = Value::tensor_from_block(&block, &[1; 9]).unwrap_err();
    assert_eq!(error.status(), Status::InvalidArgument);
}

#[test]
fn tensor_access_errors() {
    let mut tensor = Value::tensor(Dtype::I32, &[2, 2]).unwrap();
    tensor.tensor_set_f64(&[1, 1], 7.0).unwrap();
    assert_eq!(tensor.tensor_slice::<i32>().unwrap(), &[0, 0, 0, 7]);
    assert_eq!(tensor.tensor_slice::<f64>().unwrap_err().status(), Status::TypeMismatch);
    assert_eq!(tensor.tensor_get_f64(&[2, 0]).unwrap_err().status(), Status::OutOfRange);
    assert_eq!(tensor.tensor_get_f64(&[0]).unwrap_err().status(), Status::InvalidArgument);
    assert_eq!(tensor.tensor_set_f64(&[0, 0], 0.5).unwrap_err().status(), Status::OutOfRange);
    assert_eq!(Value::int(1).unwrap().tensor_info().unwrap_err().status(), Status::TypeMismatch);
}

#[test]
fn schemas_validate_and_name_the_offending_element() {
    let schema = Schema::compile(
        r#"{"type": "object", "required": ["matrix_a"],
            "properties": {"matrix_a": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}}}}"#,
    )
    .unwrap();
    schema.validate(&Value::from_json(r#"{"matrix_a": [[1, 2], [3, 4]]}"#).unwrap()).unwrap();
    let error =
        schema.validate(&Value::from_json(r#"{"matrix_a": [[1, 2], ["x", 4]]}"#).unwrap()).unwrap_err();
    assert_eq!(error.status(), Status::Validation);
    assert!(error.message().contains("/matrix_a/1/0"), "{}", error.message());
    let error = Schema::compile(r#"{"minItems": -1}"#).err().unwrap();
    assert_eq!(error.status(), Status::InvalidArgument);
    assert!(error.message().contains("minItems"), "{}", error.message());
    assert_eq!(Schema::compile("{").err().unwrap().status(), Status::InvalidArgument);
}

#[test]
fn values_are_shared_across_threads() {
    let value = Value::from_json(r#"{"n": [1, 2, 3]}"#).unwrap();
    let copies: Vec<_> = (0..4).map(|_| value.clone()).collect();
    let sums: Vec<i64> = copies
        .into_iter()
        .map(|v| {
            std::thread::spawn(move || {
                (0..3).map(|i| v.get_key("n").unwrap().get(i).unwrap().as_int().unwrap()).sum()
            })
        })
        .map(|h| h.join().unwrap())
        .collect();
    assert_eq!(sums, [6, 6, 6, 6]);
    assert_eq!(value.refcount(), 1);
    assert!(format!("{value:?}").contains("\"n\""));
}
