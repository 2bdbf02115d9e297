package tokenstore

import (
	"testing"
	"time"
)

func TestReservedExtrasStayInternal(t *testing.T) {
	tok := &Token{AccessToken: "a", Extra: map[string]string{leaseKey: "1;n;o", "custom": "v"}}
	ot := tok.OAuth2Token()
	if ot.Extra(leaseKey) != nil {
		t.Error("OAuth2Token exposes a reserved extra")
	}
	if ot.Extra("custom") != "v" {
		t.Error("OAuth2Token drops a provider extra")
	}
	stored := &Token{AccessToken: "a", Extra: map[string]string{"custom": "v"}}
	if m := merge(stored, tok); m.Extra[leaseKey] != "" || m.Extra["custom"] != "v" {
		t.Errorf("merge copied a reserved extra from the saved token: %v", m.Extra)
	}
}

func TestLeaseRoundTrip(t *testing.T) {
	l := lease{expiry: time.UnixMilli(1700000000123), nonce: "abc", owner: "host;1"}
	got, ok := leaseOf(withLease(&Token{}, l))
	if !ok || !got.expiry.Equal(l.expiry) || got.nonce != l.nonce || got.owner != l.owner {
		t.Errorf("leaseOf(withLease(%v)) = %v, %v", l, got, ok)
	}
	if holds(withoutLease(withLease(&Token{}, l)), l) {
		t.Error("withoutLease kept the lease")
	}
	if holds(withLease(&Token{}, lease{expiry: l.expiry, nonce: "other", owner: l.owner}), l) {
		t.Error("a lease with the same owner but another nonce counts as ours")
	}
	for _, bad := range []string{"", "x", "12", "12;", "x;n;o", "12;;o"} {
		if _, ok := leaseOf(&Token{Extra: map[string]string{leaseKey: bad}}); ok {
			t.Errorf("malformed lease %q accepted", bad)
		}
	}
}
