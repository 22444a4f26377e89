//! A two-level segregated-fit (TLSF) allocator over offsets, with bounded-time operations.
//!
//! Owns the placement logic of the device memory pool as pure host code: it hands out
//! `[offset, offset + size)` ranges of an abstract region, so it is tested exhaustively on the
//! CPU. Block headers live in a host-side slab (device memory cannot hold them). Every size is
//! a multiple of the granule ([`GRANULE`] = 256 bytes, CUDA's allocation alignment).
//!
//! Time bounds: allocate = one bitmap search (two `trailing_zeros`) + at most one split;
//! free = at most two merges. All O(1). When the O(1) good-fit search finds nothing (only
//! possible when memory is nearly exhausted, because it skips the one size class that may hold
//! a block just large enough), one bounded scan of that single class runs before the request
//! is refused, so a request that fits is never refused.
//!
//! It must not know about CUDA, tags' meaning or time.

/// Allocation granule and alignment, bytes.
pub const GRANULE: u64 = 256;
const SL_LOG2: u32 = 4;
const SL_COUNT: u64 = 1 << SL_LOG2;
const FL_COUNT: usize = 64;
const NONE: u32 = u32::MAX;

struct Block<T> {
    offset: u64, // granules
    size: u64,   // granules
    used: Option<T>,
    phys_prev: u32,
    phys_next: u32,
    free_prev: u32,
    free_next: u32,
}

/// Why an allocation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exhausted {
    /// Largest contiguous free block, bytes.
    pub largest_free: u64,
    /// Free bytes in total.
    pub free: u64,
}

/// A granted range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grant {
    /// Handle for [`Tlsf::free`].
    pub block: u32,
    /// Start, bytes from the region's base (a multiple of [`GRANULE`]).
    pub offset: u64,
    /// Bytes reserved (the request rounded up to granules; the block may be larger).
    pub reserved: u64,
}

/// TLSF over a region of `capacity` bytes; `T` is the metadata kept per live allocation.
pub struct Tlsf<T> {
    blocks: Vec<Block<T>>,
    spare: Vec<u32>,
    fl_bitmap: u64,
    sl_bitmap: [u32; FL_COUNT],
    heads: Box<[[u32; SL_COUNT as usize]; FL_COUNT]>,
    capacity: u64, // granules
    used: u64,     // granules in used blocks
    live: usize,
}

fn mapping(g: u64) -> (usize, usize) {
    if g < SL_COUNT {
        (0, g as usize)
    } else {
        let fl_raw = 63 - g.leading_zeros();
        let sl = (g >> (fl_raw - SL_LOG2)) ^ SL_COUNT;
        ((fl_raw - SL_LOG2 + 1) as usize, sl as usize)
    }
}

/// The size class whose every block is at least `g` granules (rounds `g` up to its class).
fn mapping_search(g: u64) -> (usize, usize) {
    if g < SL_COUNT {
        return mapping(g);
    }
    let fl_raw = 63 - g.leading_zeros();
    let round = (1u64 << (fl_raw - SL_LOG2)) - 1;
    mapping(g.saturating_add(round))
}

impl<T> Tlsf<T> {
    /// An allocator over `capacity` bytes (rounded down to whole granules).
    pub fn new(capacity: u64) -> Self {
        let mut t = Tlsf {
            blocks: Vec::new(),
            spare: Vec::new(),
            fl_bitmap: 0,
            sl_bitmap: [0; FL_COUNT],
            heads: Box::new([[NONE; SL_COUNT as usize]; FL_COUNT]),
            capacity: capacity / GRANULE,
            used: 0,
            live: 0,
        };
        if t.capacity > 0 {
            let b = t.new_block(0, t.capacity);
            t.insert_free(b);
        }
        t
    }

    fn new_block(&mut self, offset: u64, size: u64) -> u32 {
        let b = Block {
            offset,
            size,
            used: None,
            phys_prev: NONE,
            phys_next: NONE,
            free_prev: NONE,
            free_next: NONE,
        };
        match self.spare.pop() {
            Some(i) => {
                self.blocks[i as usize] = b;
                i
            }
            None => {
                self.blocks.push(b);
                (self.blocks.len() - 1) as u32
            }
        }
    }

    fn insert_free(&mut self, b: u32) {
        let (fl, sl) = mapping(self.blocks[b as usize].size);
        let head = self.heads[fl][sl];
        {
            let blk = &mut self.blocks[b as usize];
            blk.free_prev = NONE;
            blk.free_next = head;
        }
        if head != NONE {
            self.blocks[head as usize].free_prev = b;
        }
        self.heads[fl][sl] = b;
        self.fl_bitmap |= 1 << fl;
        self.sl_bitmap[fl] |= 1 << sl;
    }

    fn remove_free(&mut self, b: u32) {
        let (prev, next, size) = {
            let blk = &self.blocks[b as usize];
            (blk.free_prev, blk.free_next, blk.size)
        };
        let (fl, sl) = mapping(size);
        if prev != NONE {
            self.blocks[prev as usize].free_next = next;
        } else {
            self.heads[fl][sl] = next;
            if next == NONE {
                self.sl_bitmap[fl] &= !(1 << sl);
                if self.sl_bitmap[fl] == 0 {
                    self.fl_bitmap &= !(1 << fl);
                }
            }
        }
        if next != NONE {
            self.blocks[next as usize].free_prev = prev;
        }
    }

    /// First non-empty class at or above `(fl, sl)`.
    fn find_class(&self, fl: usize, sl: usize) -> Option<(usize, usize)> {
        if fl >= FL_COUNT {
            return None;
        }
        let sl_map = self.sl_bitmap[fl] & (!0u32 << sl);
        if sl_map != 0 {
            return Some((fl, sl_map.trailing_zeros() as usize));
        }
        let fl_map = if fl + 1 >= FL_COUNT { 0 } else { self.fl_bitmap & (!0u64 << (fl + 1)) };
        if fl_map == 0 {
            return None;
        }
        let fl = fl_map.trailing_zeros() as usize;
        Some((fl, self.sl_bitmap[fl].trailing_zeros() as usize))
    }

    fn find_block(&self, g: u64) -> Option<u32> {
        let (fl, sl) = mapping_search(g);
        if let Some((fl, sl)) = self.find_class(fl, sl) {
            return Some(self.heads[fl][sl]);
        }
        // Slow path, memory nearly exhausted: the request's own class may hold a fitting block.
        let (fl, sl) = mapping(g);
        let mut b = self.heads[fl][sl];
        while b != NONE {
            if self.blocks[b as usize].size >= g {
                return Some(b);
            }
            b = self.blocks[b as usize].free_next;
        }
        None
    }

    /// Reserves at least `bytes` (rounded up to granules; zero counts as one granule).
    ///
    /// # Errors
    /// [`Exhausted`] when no free block is large enough.
    pub fn allocate(&mut self, bytes: u64, meta: T) -> Result<Grant, Exhausted> {
        let g = bytes.div_ceil(GRANULE).max(1);
        let Some(b) = self.find_block(g) else { return Err(self.exhausted()) };
        self.remove_free(b);
        let (offset, size, next) = {
            let blk = &self.blocks[b as usize];
            (blk.offset, blk.size, blk.phys_next)
        };
        if size > g {
            let rest = self.new_block(offset + g, size - g);
            self.blocks[rest as usize].phys_prev = b;
            self.blocks[rest as usize].phys_next = next;
            if next != NONE {
                self.blocks[next as usize].phys_prev = rest;
            }
            let blk = &mut self.blocks[b as usize];
            blk.phys_next = rest;
            blk.size = g;
            self.insert_free(rest);
        }
        self.blocks[b as usize].used = Some(meta);
        self.used += g;
        self.live += 1;
        Ok(Grant { block: b, offset: offset * GRANULE, reserved: g * GRANULE })
    }

    /// Releases the range granted as `block`, returning its metadata; `None` if `block` is not
    /// a live allocation (a double free or a foreign handle), which changes nothing.
    pub fn free(&mut self, block: u32) -> Option<T> {
        let meta = self.blocks.get_mut(block as usize)?.used.take()?;
        let mut b = block;
        self.used -= self.blocks[b as usize].size;
        self.live -= 1;
        let next = self.blocks[b as usize].phys_next;
        if next != NONE && self.blocks[next as usize].used.is_none() {
            self.remove_free(next);
            self.absorb_next(b);
        }
        let prev = self.blocks[b as usize].phys_prev;
        if prev != NONE && self.blocks[prev as usize].used.is_none() {
            self.remove_free(prev);
            self.absorb_next(prev);
            b = prev;
        }
        self.insert_free(b);
        Some(meta)
    }

    /// Merges `b`'s physical successor (free, already off its list) into `b`.
    fn absorb_next(&mut self, b: u32) {
        let n = self.blocks[b as usize].phys_next;
        let (n_size, n_next) = {
            let nb = &self.blocks[n as usize];
            (nb.size, nb.phys_next)
        };
        self.blocks[b as usize].size += n_size;
        self.blocks[b as usize].phys_next = n_next;
        if n_next != NONE {
            self.blocks[n_next as usize].phys_prev = b;
        }
        self.spare.push(n);
    }

    fn exhausted(&self) -> Exhausted {
        Exhausted { largest_free: self.largest_free(), free: self.free_bytes() }
    }

    /// Capacity in bytes (whole granules).
    pub fn capacity(&self) -> u64 {
        self.capacity * GRANULE
    }

    /// Bytes in live allocations (granule-rounded).
    pub fn used_bytes(&self) -> u64 {
        self.used * GRANULE
    }

    /// Free bytes.
    pub fn free_bytes(&self) -> u64 {
        (self.capacity - self.used) * GRANULE
    }

    /// Live allocations.
    pub fn live(&self) -> usize {
        self.live
    }

    /// Largest contiguous free block, bytes (scans the highest non-empty class only).
    pub fn largest_free(&self) -> u64 {
        if self.fl_bitmap == 0 {
            return 0;
        }
        let fl = 63 - self.fl_bitmap.leading_zeros() as usize;
        let sl = 31 - self.sl_bitmap[fl].leading_zeros() as usize;
        let mut b = self.heads[fl][sl];
        let mut best = 0;
        while b != NONE {
            best = best.max(self.blocks[b as usize].size);
            b = self.blocks[b as usize].free_next;
        }
        best * GRANULE
    }

    /// 1 − largest free block / free bytes (0 = all free memory is one block).
    pub fn fragmentation(&self) -> f64 {
        let free = self.free_bytes();
        if free == 0 { 0.0 } else { 1.0 - self.largest_free() as f64 / free as f64 }
    }

    /// Every live allocation: (offset bytes, reserved bytes, metadata), in address order.
    pub fn live_allocations(&self) -> Vec<(u64, u64, &T)> {
        self.physical_blocks()
            .filter_map(|b| b.used.as_ref().map(|m| (b.offset * GRANULE, b.size * GRANULE, m)))
            .collect()
    }

    /// Free blocks as (offset bytes, size bytes), in address order.
    pub fn free_blocks(&self) -> Vec<(u64, u64)> {
        self.physical_blocks()
            .filter(|b| b.used.is_none())
            .map(|b| (b.offset * GRANULE, b.size * GRANULE))
            .collect()
    }

    fn physical_blocks(&self) -> impl Iterator<Item = &Block<T>> {
        // The block at offset 0 is always slab entry 0: splits keep the front part in place
        // and merges absorb into the predecessor, and entry 0 has none.
        let mut cur = if self.capacity == 0 { NONE } else { 0 };
        std::iter::from_fn(move || {
            if cur == NONE {
                return None;
            }
            let b = &self.blocks[cur as usize];
            cur = b.phys_next;
            Some(b)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn size_classes_are_monotonic_and_search_rounds_up() {
        let mut last = (0, 0);
        for g in 1..100_000u64 {
            let m = mapping(g);
            assert!(m >= last, "class of {g} went down");
            last = m;
            // Every block in the searched class (or above) is at least g granules: the class's
            // smallest size maps back to it and is >= g.
            let (fl, sl) = mapping_search(g);
            let min = if fl == 0 { sl as u64 } else { (SL_COUNT + sl as u64) << (fl - 1) };
            assert_eq!(mapping(min), (fl, sl));
            assert!(min >= g, "class ({fl},{sl}) holds {min} < {g}");
            if min > 1 {
                assert_ne!(mapping(min - 1), (fl, sl), "{min} is not the class minimum");
            }
        }
    }

    #[test]
    fn split_and_coalesce_restore_one_block() {
        let mut t: Tlsf<u32> = Tlsf::new(1 << 20);
        let a = t.allocate(1000, 1).unwrap();
        let b = t.allocate(256, 2).unwrap();
        let c = t.allocate(5000, 3).unwrap();
        assert_eq!((a.offset, a.reserved), (0, 1024));
        assert_eq!(b.offset, 1024);
        assert_eq!(c.offset, 1280);
        assert_eq!(t.used_bytes(), 1024 + 256 + 5120);
        assert_eq!(t.live(), 3);
        assert_eq!(t.free(b.block), Some(2));
        assert_eq!(t.free(b.block), None, "double free is refused and harmless");
        assert_eq!(t.free(9999), None, "foreign handle is refused");
        assert_eq!(t.free(a.block), Some(1));
        assert_eq!(t.free(c.block), Some(3));
        assert_eq!(t.free_blocks(), vec![(0, 1 << 20)]);
        assert_eq!(t.fragmentation(), 0.0);
    }

    #[test]
    fn exhaustion_reports_what_is_left_and_exact_fit_succeeds() {
        let mut t: Tlsf<()> = Tlsf::new(10 * GRANULE);
        let a = t.allocate(4 * GRANULE, ()).unwrap();
        let _b = t.allocate(6 * GRANULE, ()).unwrap();
        let e = t.allocate(1, ()).unwrap_err();
        assert_eq!(e, Exhausted { largest_free: 0, free: 0 });
        t.free(a.block);
        assert_eq!(t.allocate(5 * GRANULE, ()).unwrap_err().largest_free, 4 * GRANULE);
        // 4 granules fit exactly although the O(1) search rounds the request up.
        assert!(t.allocate(4 * GRANULE, ()).is_ok());
        let z: Tlsf<()> = Tlsf::new(100);
        assert_eq!(z.capacity(), 0);
        assert!(z.free_blocks().is_empty());
    }

    #[test]
    fn fragmentation_is_reported() {
        let mut t: Tlsf<()> = Tlsf::new(8 * GRANULE);
        let g: Vec<_> = (0..8).map(|_| t.allocate(GRANULE, ()).unwrap()).collect();
        for x in g.iter().step_by(2) {
            t.free(x.block);
        }
        // 4 free blocks of 1 granule: largest is a quarter of the free memory.
        assert!((t.fragmentation() - 0.75).abs() < 1e-12);
        assert_eq!(t.live_allocations().len(), 4);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Alloc(u64),
        Free(usize),
    }

    fn ops() -> impl Strategy<Value = Vec<Op>> {
        prop::collection::vec(
            prop_oneof![
                3 => (1u64..200_000).prop_map(Op::Alloc),
                1 => (1u64..5_000_000).prop_map(Op::Alloc),
                3 => any::<usize>().prop_map(Op::Free),
            ],
            1..300,
        )
    }

    /// No two live ranges overlap; physical blocks tile the region; no two free blocks are
    /// adjacent (coalescing happened).
    fn check_tiling(t: &Tlsf<u64>, live: &[(Grant, u64)], cap: u64) -> Result<(), TestCaseError> {
        let mut ranges: Vec<(u64, u64)> =
            live.iter().map(|(g, _)| (g.offset, g.offset + g.reserved)).collect();
        ranges.sort();
        for w in ranges.windows(2) {
            prop_assert!(w[0].1 <= w[1].0, "overlap {:?}", w);
        }
        let mut all: Vec<(u64, u64, bool)> = t
            .live_allocations()
            .iter()
            .map(|(o, s, _)| (*o, *s, false))
            .chain(t.free_blocks().iter().map(|(o, s)| (*o, *s, true)))
            .collect();
        all.sort();
        let (mut next, mut prev_free) = (0, false);
        for (o, s, free) in all {
            prop_assert_eq!(o, next);
            prop_assert!(!(free && prev_free), "adjacent free blocks were not coalesced");
            next = o + s;
            prev_free = free;
        }
        prop_assert_eq!(next, cap);
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn random_sequences_keep_every_invariant(seq in ops()) {
            let cap = 64 << 20;
            let mut t: Tlsf<u64> = Tlsf::new(cap);
            let mut live: Vec<(Grant, u64)> = Vec::new();
            for (step, op) in seq.into_iter().enumerate() {
                match op {
                    Op::Alloc(n) => match t.allocate(n, n) {
                        Ok(g) => {
                            prop_assert_eq!(g.offset % GRANULE, 0);
                            prop_assert!(g.reserved >= n && g.reserved < n + GRANULE);
                            prop_assert!(g.offset + g.reserved <= cap);
                            live.push((g, n));
                        }
                        Err(e) => {
                            // Refused only when nothing large enough is free.
                            prop_assert!(e.largest_free < n.div_ceil(GRANULE) * GRANULE);
                        }
                    },
                    Op::Free(i) if !live.is_empty() => {
                        let (g, n) = live.swap_remove(i % live.len());
                        prop_assert_eq!(t.free(g.block), Some(n));
                    }
                    Op::Free(_) => {}
                }
                // Exact accounting, every step.
                let reserved: u64 = live.iter().map(|(g, _)| g.reserved).sum();
                prop_assert_eq!(t.used_bytes(), reserved);
                prop_assert_eq!(t.used_bytes() + t.free_bytes(), cap);
                prop_assert_eq!(t.live(), live.len());
                if step % 4 == 0 {
                    check_tiling(&t, &live, cap)?;
                }
            }
            check_tiling(&t, &live, cap)?;
            for (g, n) in live.drain(..) {
                prop_assert_eq!(t.free(g.block), Some(n));
            }
            prop_assert_eq!(t.free_blocks(), vec![(0, cap)]);
        }
    }
}
