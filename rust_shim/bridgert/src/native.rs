//! Typed calls of native algorithms: `Prepared::invoke::<(f64, i32), f64>(..)`.
//!
//! A native algorithm has a C signature such as "f64(ptr,ptr,u64)". The
//! Rust argument tuple and return type spell one too (each type names its
//! code below), and a call is refused with TYPE_MISMATCH before anything
//! runs when the two differ — the check a C caller of brt_invoke has to do
//! by hand. `Prepared::typed` does the check once for a hot loop.
use std::ffi::{c_char, c_void, CStr};
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::ptr::{self, NonNull};

use bridgert_sys as sys;

use crate::error::{check, Error, Result};
use crate::status::Status;

/// A Rust type that stands for one type code of a native signature.
///
/// # Safety
/// `Repr` must have the C ABI of the code's type (`CODE`), and `to_repr`
/// must give a value that C may read as that type.
pub unsafe trait NativeArg {
    /// The type's signature code (`"f64"`, `"ptr"`, `"str"`).
    const CODE: &'static str;
    /// What is passed to C.
    type Repr: Copy;
    /// The value passed to C.
    fn to_repr(&self) -> Self::Repr;
}

/// A Rust type a native algorithm may return.
///
/// # Safety
/// The type must have the C ABI of `CODE`'s type and be valid for any bit
/// pattern the C function can return.
pub unsafe trait NativeRet: Copy {
    /// The type's signature code (`"f64"`, `"void"`).
    const CODE: &'static str;
}

macro_rules! plain_native_types {
    ($($t:ty => $code:literal),* $(,)?) => {$(
        unsafe impl NativeArg for $t {
            const CODE: &'static str = $code;
            type Repr = $t;
            fn to_repr(&self) -> $t { *self }
        }
        unsafe impl NativeRet for $t {
            const CODE: &'static str = $code;
        }
    )*};
}

plain_native_types! {
    i8 => "i8", i16 => "i16", i32 => "i32", i64 => "i64",
    u8 => "u8", u16 => "u16", u32 => "u32", u64 => "u64",
    f32 => "f32", f64 => "f64", bool => "bool",
}

unsafe impl<T> NativeArg for *const T {
    const CODE: &'static str = "ptr";
    type Repr = *const T;
    fn to_repr(&self) -> *const T {
        *self
    }
}
unsafe impl<T> NativeArg for *mut T {
    const CODE: &'static str = "ptr";
    type Repr = *mut T;
    fn to_repr(&self) -> *mut T {
        *self
    }
}
unsafe impl<T> NativeRet for *mut T {
    const CODE: &'static str = "ptr";
}
unsafe impl NativeArg for &CStr {
    const CODE: &'static str = "str";
    type Repr = *const c_char;
    fn to_repr(&self) -> *const c_char {
        self.as_ptr()
    }
}
unsafe impl NativeRet for () {
    const CODE: &'static str = "void";
}

/// A tuple of `NativeArg`s: the arguments of one call.
pub trait NativeArgs {
    /// The argument codes, comma-separated ("ptr,ptr,u64").
    fn codes() -> String;
    /// Calls `call` with an array of pointers to the arguments.
    fn with_arg_pointers(&self, call: &mut dyn FnMut(*mut *mut c_void) -> sys::brt_status)
        -> sys::brt_status;
}

macro_rules! one {
    ($name:ident) => {
        1
    };
}

macro_rules! tuple_args {
    ($($name:ident $index:tt),*) => {
        impl<$($name: NativeArg),*> NativeArgs for ($($name,)*) {
            fn codes() -> String {
                let codes: &[&str] = &[$($name::CODE),*];
                codes.join(",")
            }
            #[allow(unused_mut, unused_variables, clippy::unused_unit)]
            fn with_arg_pointers(&self, call: &mut dyn FnMut(*mut *mut c_void) -> sys::brt_status) -> sys::brt_status {
                let mut reprs = ($(self.$index.to_repr(),)*);
                // On the stack: a call allocates nothing.
                let mut pointers: [*mut c_void; 0 $(+ one!($name))*] =
                    [$(ptr::addr_of_mut!(reprs.$index).cast::<c_void>()),*];
                call(pointers.as_mut_ptr())
            }
        }
    };
}

tuple_args!();
tuple_args!(A 0);
tuple_args!(A 0, B 1);
tuple_args!(A 0, B 1, C 2);
tuple_args!(A 0, B 1, C 2, D 3);
tuple_args!(A 0, B 1, C 2, D 3, E 4);
tuple_args!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple_args!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_args!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);

/// The signature text a Rust call spells, e.g. "f64(ptr,ptr,u64)".
pub fn signature_of<A: NativeArgs, R: NativeRet>() -> String {
    format!("{}({})", R::CODE, A::codes())
}

/// Spaces removed, "(void)" read as "()".
fn normalize(signature: &str) -> String {
    signature.split_whitespace().collect::<String>().replace("(void)", "()")
}

/// A native algorithm resolved once for many calls (`brt_prepare`). It keeps
/// the algorithm and its plugin's code alive until dropped.
pub struct Prepared {
    raw: NonNull<sys::brt_prepared>,
    signature: String,
}

// SAFETY: brt_invoke and brt_prepared_signature are thread-safe; the handle
// is freed only by Drop, which has it exclusively.
unsafe impl Send for Prepared {}
unsafe impl Sync for Prepared {}

impl Prepared {
    /// Adopts a handle from `brt_prepare`.
    ///
    /// # Safety
    /// `raw` is NULL or a live handle the caller gives up.
    pub unsafe fn from_raw(raw: *mut sys::brt_prepared) -> Result<Prepared> {
        let raw = NonNull::new(raw).ok_or_else(|| Error::from_null("brt_prepare"))?;
        let text = sys::brt_prepared_signature(raw.as_ptr());
        let signature =
            if text.is_null() { String::new() } else { CStr::from_ptr(text).to_string_lossy().into_owned() };
        Ok(Prepared { raw, signature })
    }

    /// The algorithm's C signature, e.g. "f64(ptr,ptr,u64)".
    pub fn signature(&self) -> &str {
        &self.signature
    }

    fn check_signature<A: NativeArgs, R: NativeRet>(&self) -> Result<()> {
        let wanted = signature_of::<A, R>();
        if normalize(&wanted) == normalize(&self.signature) {
            Ok(())
        } else {
            Err(Error::new(
                Status::TypeMismatch,
                format!("the algorithm's signature is {} but the Rust call is {wanted}", self.signature),
            ))
        }
    }

    /// Calls the native function with `args` after checking that their
    /// types and `R` match its signature. Errors: TYPE_MISMATCH (nothing
    /// ran), the function's own error (a C++ exception arrives with its
    /// type), NOT_FOUND when the algorithm was unregistered meanwhile.
    pub fn invoke<A: NativeArgs, R: NativeRet>(&self, args: A) -> Result<R> {
        self.check_signature::<A, R>()?;
        // SAFETY: the types match the signature (checked above).
        unsafe { self.invoke_unchecked(args) }
    }

    /// A callable that checked the signature once.
    pub fn typed<A: NativeArgs, R: NativeRet>(&self) -> Result<TypedFn<'_, A, R>> {
        self.check_signature::<A, R>()?;
        Ok(TypedFn { prepared: self, _types: PhantomData })
    }

    unsafe fn invoke_unchecked<A: NativeArgs, R: NativeRet>(&self, args: A) -> Result<R> {
        let mut ret = MaybeUninit::<R>::uninit();
        let ret_ptr = if std::mem::size_of::<R>() == 0 { ptr::null_mut() } else { ret.as_mut_ptr().cast() };
        let raw = self.raw.as_ptr();
        check(args.with_arg_pointers(&mut |pointers| sys::brt_invoke(raw, ret_ptr, pointers)))?;
        // SAFETY: brt_invoke stored a value of R's C type (or R is ()).
        Ok(ret.assume_init())
    }

    /// The C handle, for `bridgert::sys` calls; valid while `self` lives.
    pub fn as_raw(&self) -> *mut sys::brt_prepared {
        self.raw.as_ptr()
    }
}

impl Drop for Prepared {
    fn drop(&mut self) {
        // SAFETY: we own the handle.
        unsafe { sys::brt_prepared_free(self.raw.as_ptr()) }
    }
}

/// A prepared algorithm whose signature was checked against `A -> R`.
pub struct TypedFn<'p, A, R> {
    prepared: &'p Prepared,
    _types: PhantomData<fn(A) -> R>,
}

impl<A: NativeArgs, R: NativeRet> TypedFn<'_, A, R> {
    /// The call: brt_invoke plus the status check, nothing else.
    #[inline]
    pub fn call(&self, args: A) -> Result<R> {
        // SAFETY: checked by Prepared::typed.
        unsafe { self.prepared.invoke_unchecked(args) }
    }
}
