//! Shared helpers of the RMF benchmarks.
