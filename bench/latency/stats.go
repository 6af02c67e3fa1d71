package main

import (
	"math"
	"slices"
)

// stats summarises latencies in milliseconds.
type stats struct {
	N    int     `json:"n"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// computeStats uses nearest-rank percentiles.
func computeStats(v []float64) stats {
	if len(v) == 0 {
		return stats{}
	}
	s := slices.Clone(v)
	slices.Sort(s)
	var sum float64
	for _, x := range s {
		sum += x
	}
	return stats{
		N: len(s), P50: pct(s, 0.50), P90: pct(s, 0.90), P99: pct(s, 0.99),
		Max: s[len(s)-1], Mean: sum / float64(len(s)),
	}
}

func pct(sorted []float64, p float64) float64 {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// histogram records latencies in fixed 10 µs buckets up to 5 s, allocated
// once, so that recording does not grow the heap the benchmark measures.
type histogram struct {
	buckets  []uint32
	overflow []float64
	n        int
	sum, max float64
}

const (
	histStep = 0.01 // ms
	histSpan = 5000 // ms
)

func newHistogram() *histogram {
	return &histogram{buckets: make([]uint32, int(histSpan/histStep)+1)}
}

func (h *histogram) add(ms float64) {
	h.n++
	h.sum += ms
	h.max = max(h.max, ms)
	i := int(ms / histStep)
	switch {
	case i < 0:
		h.buckets[0]++
	case i >= len(h.buckets):
		h.overflow = append(h.overflow, ms)
	default:
		h.buckets[i]++
	}
}

// quantile returns the upper edge of the bucket holding the p-quantile.
func (h *histogram) quantile(p float64) float64 {
	rank := int(math.Ceil(p * float64(h.n)))
	seen := 0
	for i, c := range h.buckets {
		seen += int(c)
		if seen >= rank {
			return float64(i+1) * histStep
		}
	}
	s := slices.Clone(h.overflow)
	slices.Sort(s)
	return s[max(0, min(rank-seen-1, len(s)-1))]
}

func (h *histogram) stats() stats {
	if h.n == 0 {
		return stats{}
	}
	return stats{N: h.n, P50: h.quantile(0.5), P90: h.quantile(0.9), P99: h.quantile(0.99), Max: h.max, Mean: h.sum / float64(h.n)}
}

// seqSet is a bitmap of sequence numbers, allocated once.
type seqSet []uint64

func newSeqSet(n int) seqSet { return make(seqSet, n/64+1) }

// add reports whether seq was new; out-of-range numbers count as new.
func (s seqSet) add(seq int) bool {
	if seq < 0 || seq/64 >= len(s) {
		return true
	}
	w, bit := seq/64, uint64(1)<<(seq%64)
	if s[w]&bit != 0 {
		return false
	}
	s[w] |= bit
	return true
}
