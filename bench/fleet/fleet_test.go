package main

import (
	"testing"
	"time"

	"echotray/devstack/laravel"
)

func TestChannelsFor(t *testing.T) {
	users := laravel.FleetUsers(1000, 20, 3, 10)
	staff, admin := users[0], users[9]
	ch, priv := channelsFor(staff)
	if len(ch) != 2 || ch[0] != "tenant.1" || ch[1] != "private-user.1000" || priv != 1 {
		t.Errorf("staff: %v %d", ch, priv)
	}
	ch, priv = channelsFor(admin)
	if len(ch) != 2 || ch[0] != "private-system.admin" || ch[1] != "private-user.1009" || priv != 2 {
		t.Errorf("admin: %v %d", ch, priv)
	}
}

func TestRecorderWindowAndSums(t *testing.T) {
	r := &recorder{start: time.Unix(0, 0)}
	for i := 1; i <= 10; i++ {
		r.series = append(r.series, sample{T: time.Duration(i) * bucket, AuthReqs: i, Auth429: 1, Reconnects: 2})
	}
	// Buckets ending in (0.3 s, 0.6 s], plus the one still open at 0.6 s.
	w := r.window(r.start.Add(300*time.Millisecond), r.start.Add(600*time.Millisecond))
	if len(w) != 4 || w[0].AuthReqs != 4 || w[3].AuthReqs != 7 {
		t.Fatalf("window = %+v", w)
	}
	s := sumWindow(w)
	if s.AuthReqs != 4+5+6+7 || s.Auth429 != 4 || s.Reconnects != 8 {
		t.Errorf("sum = %+v", s)
	}
}

func TestPercentile(t *testing.T) {
	ds := durations([]time.Duration{5, 1, 4, 2, 3})
	if percentile(ds, 0) != 1 || percentile(ds, 50) != 3 || percentile(ds, 100) != 5 {
		t.Errorf("percentiles of %v", ds)
	}
	if percentile(nil, 50) != 0 {
		t.Error("percentile of nothing")
	}
}
