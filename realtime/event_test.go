package realtime

import "testing"

func TestNamespaceFormat(t *testing.T) {
	cases := []struct {
		ns     Namespace
		listen string
		want   string
	}{
		{DefaultNamespace, "UserCreated", `App\Events\UserCreated`},
		{DefaultNamespace, "Billing.PaymentCompleted", `App\Events\Billing\PaymentCompleted`},
		{DefaultNamespace, ".payment.completed", "payment.completed"},
		{DefaultNamespace, `\App\Custom\Thing`, `App\Custom\Thing`},
		{"App.Events", "UserCreated", `App\Events\UserCreated`},
		{`App\Events\`, "UserCreated", `App\Events\UserCreated`},
		{NoNamespace, "UserCreated", "UserCreated"},
		{NoNamespace, "a.b", `a\b`},
		{"", "UserCreated", "UserCreated"},
		{`Domain\Events`, "X", `Domain\Events\X`},
	}
	for _, c := range cases {
		if got := c.ns.Format(c.listen); got != c.want {
			t.Errorf("%q.Format(%q) = %q, want %q", c.ns, c.listen, got, c.want)
		}
	}
}

func TestNamespaceStripAndShortName(t *testing.T) {
	cases := []struct {
		ns   Namespace
		wire string
		want string
	}{
		{DefaultNamespace, `App\Events\UserCreated`, "UserCreated"},
		{DefaultNamespace, "UserCreated", "UserCreated"},
		{DefaultNamespace, `App\Events\Billing\PaymentCompleted`, `Billing\PaymentCompleted`},
		{DefaultNamespace, `App\EventsX\Y`, `App\EventsX\Y`},
		{DefaultNamespace, `App\Events\`, `App\Events\`},
		{"App.Events", `App\Events\UserCreated`, "UserCreated"},
		{NoNamespace, `App\Events\UserCreated`, `App\Events\UserCreated`},
	}
	for _, c := range cases {
		if got := c.ns.Strip(c.wire); got != c.want {
			t.Errorf("%q.Strip(%q) = %q, want %q", c.ns, c.wire, got, c.want)
		}
		if got := (Event{Name: c.wire}).ShortName(c.ns); got != c.want {
			t.Errorf("ShortName = %q", got)
		}
	}
}

func TestStateStrings(t *testing.T) {
	want := []string{"initialized", "connecting", "connected", "unavailable", "disconnected", "failed"}
	for i, w := range want {
		if got := State(i).String(); got != w {
			t.Errorf("State(%d) = %q", i, got)
		}
	}
	if State(42).String() != "state(42)" || SubscriptionStatus(9).String() != "subscription(9)" {
		t.Error("unknown values")
	}
	for i, w := range []string{"pending", "subscribed", "failed", "forbidden"} {
		if got := SubscriptionStatus(i).String(); got != w {
			t.Errorf("SubscriptionStatus(%d) = %q", i, got)
		}
	}
}
