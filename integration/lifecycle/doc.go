// Package lifecycle tests tokenstore's TokenSource against a real OAuth 2.0
// authorization server, ory/fosite, run in-process on 127.0.0.1 with the
// authorization-code and refresh-token grants, refresh-token rotation and
// fosite's reuse detection: grant exchange, refresh at expiry, save failures,
// provider outages, a lease holder that dies, and many processes racing on
// one expired token. The tests need no external server.
package lifecycle
