//! `Block<T>` and `Buffer`: owned references to managed blocks.
//!
//! A `Block<T>` holds one reference to a bridgert block that stores `len`
//! values of plain data `T`. `Clone` retains the same block (no copy), `Drop`
//! releases it, so Rust, C and C++ can hold the same memory and the last
//! holder frees it. The bytes can be changed only through a handle that is
//! the block's only reference (`as_mut_slice`).
use std::fmt;
use std::marker::PhantomData;
use std::mem::{align_of, size_of};
use std::ops::Deref;
use std::ptr::NonNull;
use std::slice;

use bridgert_sys as sys;

use crate::error::{check, Error, Result};
use crate::status::Status;

/// Which heap a block stands for (`brt_mem_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum MemType {
    /// Blocks C code allocated.
    CHeap = sys::BRT_MEM_C_HEAP,
    /// Blocks Rust allocated (`Allocator`, `Block`).
    RustHeap = sys::BRT_MEM_RUST_HEAP,
    /// Blocks C++ allocated (`brt::allocator`, `bridgert_new_delete`).
    CppHeap = sys::BRT_MEM_CPP_HEAP,
    /// memfd-backed blocks another process can map.
    Shared = sys::BRT_MEM_SHARED,
    /// File or memfd mappings (`brt_map_file`, `brt_map_fd`).
    Mapped = sys::BRT_MEM_MAPPED,
}

impl MemType {
    /// Every heap type, in numeric order.
    pub const ALL: [MemType; 5] =
        [MemType::CHeap, MemType::RustHeap, MemType::CppHeap, MemType::Shared, MemType::Mapped];

    /// The type with this C value, or `None` for one this crate does not know.
    pub fn from_raw(raw: sys::brt_mem_type) -> Option<MemType> {
        MemType::ALL.into_iter().find(|t| *t as u32 == raw)
    }
    /// "c_heap", "rust_heap", "cpp_heap", "shared", "mapped".
    pub fn name(self) -> &'static str {
        ["c_heap", "rust_heap", "cpp_heap", "shared", "mapped"][self as usize]
    }
}

/// What the allocator knows about one block (`brt_block_info`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockInfo {
    /// Requested size when tracking is at least `Blocks`, else `usable`.
    pub size: usize,
    /// Bytes the block can hold (its size class).
    pub usable: usize,
    /// Alignment of the block.
    pub align: usize,
    /// The heap type; `None` for a value this crate does not know.
    pub mem_type: Option<MemType>,
    /// Reference count over every language.
    pub refcount: u32,
    /// Allocation id when tracking is at least `Blocks`, else 0.
    pub id: u64,
    /// Nanoseconds since the block was allocated (needs tracking at `Blocks`).
    pub age_ns: u64,
    /// The block's bytes cannot be written (`BRT_BLOCK_READ_ONLY`: a
    /// MAPPED block mapped read-only); a write through it faults.
    pub read_only: bool,
}

impl BlockInfo {
    pub(crate) fn from_raw(raw: &sys::brt_block_info) -> BlockInfo {
        BlockInfo {
            size: raw.size,
            usable: raw.usable,
            align: raw.align,
            mem_type: MemType::from_raw(raw.type_),
            refcount: raw.refcount,
            id: raw.id,
            age_ns: raw.age_ns,
            read_only: raw.flags & sys::BRT_BLOCK_READ_ONLY != 0,
        }
    }
}

/// The block information of any pointer; errors for pointers that are not
/// the start of a live block (INVALID_POINTER, DOUBLE_FREE).
pub fn block_info(ptr: *const u8) -> Result<BlockInfo> {
    let mut raw =
        sys::brt_block_info { struct_size: size_of::<sys::brt_block_info>() as u32, ..Default::default() };
    // SAFETY: brt_block_info_get never touches memory it does not own.
    check(unsafe { sys::brt_block_info_get(ptr.cast(), &mut raw) })?;
    Ok(BlockInfo::from_raw(&raw))
}

/// `len` values of plain data `T` in a managed block.
pub struct Block<T: Copy + 'static> {
    ptr: NonNull<T>,
    len: usize,
    _owns: PhantomData<T>,
}

/// Bytes in a managed block.
pub type Buffer = Block<u8>;

// SAFETY: the reference count is atomic in C, a shared handle only reads,
// and writes need the only reference. As with Arc<T>, handing a handle to
// another thread shares the T values with it, so both need T: Send + Sync.
unsafe impl<T: Copy + Send + Sync + 'static> Send for Block<T> {}
unsafe impl<T: Copy + Send + Sync + 'static> Sync for Block<T> {}

fn byte_size<T>(len: usize) -> Result<usize> {
    if size_of::<T>() == 0 {
        return Err(Error::new(Status::InvalidArgument, "a Block cannot hold zero-sized values"));
    }
    len.checked_mul(size_of::<T>()).ok_or_else(|| {
        Error::new(
            Status::OutOfMemory,
            format!("{len} values of {} bytes overflow the address space", size_of::<T>()),
        )
    })
}

impl<T: Copy + 'static> Block<T> {
    /// Allocates `len` values in a block of type `mem_type`, each set to `fill`.
    pub fn filled_in(len: usize, fill: T, mem_type: MemType) -> Result<Block<T>> {
        let bytes = byte_size::<T>(len)?;
        // SAFETY: size and alignment are checked by brt_alloc.
        let raw = unsafe { sys::brt_alloc(bytes, align_of::<T>(), mem_type as u32, 0) };
        let ptr = NonNull::new(raw.cast::<T>()).ok_or_else(|| Error::from_null("brt_alloc"))?;
        for i in 0..len {
            // SAFETY: inside the fresh block, aligned for T.
            unsafe { ptr.as_ptr().add(i).write(fill) };
        }
        Ok(Block { ptr, len, _owns: PhantomData })
    }

    /// `len` default values in a `RustHeap` block. `len` 0 is
    /// INVALID_ARGUMENT: a block has at least one byte.
    pub fn new(len: usize) -> Result<Block<T>>
    where
        T: Default,
    {
        Block::filled_in(len, T::default(), MemType::RustHeap)
    }

    /// A copy of `values` in a block of type `mem_type`.
    pub fn from_slice_in(values: &[T], mem_type: MemType) -> Result<Block<T>> {
        let first = *values.first().ok_or_else(|| {
            Error::new(Status::InvalidArgument, "a Block needs at least one value (the slice is empty)")
        })?;
        let mut block = Block::filled_in(values.len(), first, mem_type)?;
        block.as_mut_slice().expect("a fresh block is unique").copy_from_slice(values);
        Ok(block)
    }

    /// A copy of `values` in a `RustHeap` block.
    pub fn from_slice(values: &[T]) -> Result<Block<T>> {
        Block::from_slice_in(values, MemType::RustHeap)
    }

    /// Adopts a block C or C++ allocated (one reference passes to the
    /// `Block`, released on drop). Checks that `ptr` is the start of a live
    /// block, aligned for `T`, with room for `len` values.
    ///
    /// # Safety
    /// The caller owns one reference to the block and gives it up; the
    /// first `len` values are initialised `T`s.
    pub unsafe fn from_raw(ptr: *mut T, len: usize) -> Result<Block<T>> {
        let info = block_info(ptr.cast())?;
        let bytes = byte_size::<T>(len)?;
        if ptr as usize % align_of::<T>() != 0 {
            return Err(Error::new(
                Status::LayoutMismatch,
                format!(
                    "block {ptr:p} is not aligned to {} for {}",
                    align_of::<T>(),
                    std::any::type_name::<T>()
                ),
            ));
        }
        if bytes > info.usable {
            return Err(Error::new(
                Status::OutOfRange,
                format!("block {ptr:p} has {} usable bytes, {len} values need {bytes}", info.usable),
            ));
        }
        Ok(Block { ptr: NonNull::new_unchecked(ptr), len, _owns: PhantomData })
    }

    /// Like `from_raw`, but takes a new reference (retains) instead of
    /// adopting one: for a block C++ keeps using.
    ///
    /// # Safety
    /// As `from_raw`, except that the caller keeps its own reference.
    pub unsafe fn from_raw_retained(ptr: *mut T, len: usize) -> Result<Block<T>> {
        // brt_retain refuses what is not the start of a live block and
        // changes nothing then; from_raw checks the rest.
        check(sys::brt_retain(ptr.cast()))?;
        Block::from_raw(ptr, len).inspect_err(|_| {
            sys::brt_release(ptr.cast());
        })
    }

    /// Gives up the handle without releasing: the caller now owns that
    /// reference (hand it to C++, or back to `from_raw`).
    pub fn into_raw(self) -> *mut T {
        let ptr = self.ptr.as_ptr();
        std::mem::forget(self);
        ptr
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.len
    }
    /// Always false: a block holds at least one value.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// The first value, for C and C++ that read the block.
    pub fn as_ptr(&self) -> *const T {
        self.ptr.as_ptr()
    }
    /// The values.
    pub fn as_slice(&self) -> &[T] {
        // SAFETY: len initialised values, alive while we hold a reference.
        unsafe { slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// The values, mutable, when this handle holds the block's only
    /// reference; `None` while anyone else (a clone, C++) holds it too.
    pub fn as_mut_slice(&mut self) -> Option<&mut [T]> {
        // SAFETY: with refcount 1 that reference is ours, and &mut self
        // keeps this handle from being cloned during the borrow.
        (self.refcount() == 1).then(|| unsafe { slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) })
    }

    /// A raw pointer for writing, for handing the block to C or C++ that
    /// fills it in place while Rust holds it. Writing through it while other
    /// handles read is the caller's to synchronise.
    pub fn as_mut_ptr(&mut self) -> *mut T {
        self.ptr.as_ptr()
    }

    /// The block's reference count (all holders, in every language).
    pub fn refcount(&self) -> u32 {
        self.info().map_or(0, |info| info.refcount)
    }

    /// What the allocator knows about the block.
    pub fn info(&self) -> Result<BlockInfo> {
        block_info(self.ptr.as_ptr().cast())
    }

    /// The block's heap type.
    pub fn mem_type(&self) -> Option<MemType> {
        self.info().ok().and_then(|info| info.mem_type)
    }

    /// Another handle on the same block (retains). Fails with OUT_OF_RANGE
    /// at the reference count's maximum.
    pub fn try_clone(&self) -> Result<Block<T>> {
        // SAFETY: a live block we hold a reference to.
        check(unsafe { sys::brt_retain(self.ptr.as_ptr().cast()) })?;
        Ok(Block { ptr: self.ptr, len: self.len, _owns: PhantomData })
    }
}

impl<T: Copy + 'static> Clone for Block<T> {
    /// Retains the same block. Panics only when the block already holds
    /// `BRT_REFCOUNT_MAX` references; `try_clone` reports that instead.
    fn clone(&self) -> Block<T> {
        self.try_clone().unwrap_or_else(|error| panic!("cloning a Block failed: {error}"))
    }
}

impl<T: Copy + 'static> Drop for Block<T> {
    fn drop(&mut self) {
        // SAFETY: we hold one reference. Releasing a live block we hold
        // cannot fail.
        unsafe { sys::brt_release(self.ptr.as_ptr().cast()) };
    }
}

impl<T: Copy + 'static> Deref for Block<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        self.as_slice()
    }
}

impl<T: Copy + fmt::Debug + 'static> fmt::Debug for Block<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Block")
            .field("ptr", &self.ptr)
            .field("len", &self.len)
            .field("values", &self.as_slice())
            .finish()
    }
}
