package main

import (
	"os"
	"testing"
)

func TestStatCPU(t *testing.T) {
	// A name with a space and a ')' in it; utime 250, stime 37 ticks.
	line := "4242 (we ird) name) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 37 0 0 20 0 9 0 100 1000000 400 18446744073709551615\n"
	got, err := statCPU([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if want := 2.87; got < want-1e-9 || got > want+1e-9 {
		t.Fatalf("statCPU = %v, want %v", got, want)
	}
	if _, err := statCPU([]byte("4242 (x) S 1 2")); err == nil {
		t.Fatal("a short line parsed")
	}
}

func TestSampleSelf(t *testing.T) {
	s, err := sample(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.RSSKiB <= 0 || s.PssKiB <= 0 || s.Switches <= 0 {
		t.Fatalf("sample of this process: %+v", s)
	}
}

func TestPercentile(t *testing.T) {
	v := []float64{0.9, 0.1, 0.5, 0.3, 0.7, 0.2, 0.4, 0.6, 0.8, 1.0}
	for _, c := range []struct{ p, want float64 }{{0, 0.1}, {50, 0.5}, {90, 0.9}, {100, 1.0}} {
		if got := percentile(v, c.p); got != c.want {
			t.Errorf("p%v = %v, want %v", c.p, got, c.want)
		}
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{7: "7", 1000: "1,000", 123456: "123,456", 1234567: "1,234,567"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}
