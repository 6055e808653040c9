/// A requested page: 1-based number, size clamped to 1..=max.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub number: i64,
    pub size: i64,
    /// A page past the end shows the last one (the console); otherwise it is empty (the API).
    pub clamp: bool,
    /// An exact number of items to skip (token paging); `number` is then ignored.
    pub skip: Option<i64>,
}

impl PageRequest {
    pub const DEFAULT_SIZE: i64 = 10;
    pub const MAX_SIZE: i64 = 100;

    /// Missing or nonsensical values fall back to the first page and the default size;
    /// the API checks bounds itself to answer with its own error codes.
    pub fn new(number: Option<i64>, size: Option<i64>) -> PageRequest {
        PageRequest {
            number: number.filter(|n| *n >= 1).unwrap_or(1),
            size: size.filter(|s| *s >= 1).map(|s| s.min(Self::MAX_SIZE)).unwrap_or(Self::DEFAULT_SIZE),
            clamp: false,
            skip: None,
        }
    }
    /// `size` items after the first `skip` (MaxResults/NextToken).
    pub fn from_offset(skip: i64, size: i64) -> PageRequest {
        PageRequest { number: 1 + skip / size.max(1), size, clamp: false, skip: Some(skip.max(0)) }
    }
    /// A console page: a number past the end (an old link, a typed one) shows the last page.
    pub fn with_size(number: Option<i64>, size: i64) -> PageRequest {
        PageRequest { number: number.filter(|n| *n >= 1).unwrap_or(1), size, clamp: true, skip: None }
    }
    /// This request among `total` items: clamped to the last page when it asks to be.
    pub fn within(self, total: i64) -> PageRequest {
        let last = ((total + self.size - 1) / self.size).max(1);
        if self.clamp && self.skip.is_none() && self.number > last { PageRequest { number: last, ..self } } else { self }
    }
    pub fn offset(&self) -> i64 {
        if let Some(skip) = self.skip {
            return skip;
        }
        (self.number - 1).saturating_mul(self.size)
    }
    /// Where this page ends: its offset and size, however far on a page number asks for.
    pub fn end(&self) -> i64 {
        self.offset().saturating_add(self.size)
    }
}

/// One page of results and the total across all pages.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub request: PageRequest,
}

impl<T> Page<T> {
    pub fn pages(&self) -> i64 {
        ((self.total + self.request.size - 1) / self.request.size).max(1)
    }
    pub fn has_prev(&self) -> bool {
        self.request.number > 1
    }
    pub fn has_next(&self) -> bool {
        self.request.number < self.pages()
    }
    pub fn prev(&self) -> i64 {
        self.request.number - 1
    }
    pub fn next(&self) -> i64 {
        self.request.number + 1
    }
}
