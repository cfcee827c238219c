// Package ssl turns ZooKeeper's ssl.* settings into Go TLS configurations,
// as Apache's X509Util does for the secure client port (ClientX509Util,
// keys "ssl.*") and for links between members (QuorumX509Util, keys
// "ssl.quorum.*"): key and trust stores read from PEM, PKCS#12 and JKS
// files, protocol and cipher-suite choices, the client-certificate
// requirement (ssl.clientAuth) and hostname verification.
//
// What Go's crypto/tls cannot express is said where it happens: enabled
// protocols become a min..max range, TLS 1.3 cipher suites are fixed,
// certificate revocation (ssl.crl, ssl.ocsp) is refused rather than
// silently skipped, and Java-only settings (ssl.context.supplier.class,
// ssl.sslProvider) are refused or ignored.
package ssl

import (
	"crypto/tls"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Prefixes of the two families of settings, as zoo.cfg spells them
// (Apache reads them as the system properties "zookeeper."+key).
const (
	ClientPrefix = "ssl."        // the secure client port
	QuorumPrefix = "ssl.quorum." // links between members (sslQuorum)
)

// ClientAuth is ssl.clientAuth: whether a server asks for, and requires,
// a client certificate.
type ClientAuth int

const (
	// Need requires a client certificate (the default).
	Need ClientAuth = iota
	// Want asks for one but lets clients without a certificate in.
	Want
	// None does not ask.
	None
)

func (a ClientAuth) String() string {
	switch a {
	case Want:
		return "want"
	case None:
		return "none"
	}
	return "need"
}

// Store is a key or trust store setting.
type Store struct {
	Location string // path
	Password string // after passwordPath is read
	Type     string // as given (may be empty: taken from the file name)
}

// Settings are one family of ssl settings.
type Settings struct {
	Prefix     string // ClientPrefix or QuorumPrefix, for messages
	KeyStore   Store
	TrustStore Store
	// Protocol is ssl.protocol (default TLSv1.2 in Apache 3.8, TLSv1.3 in
	// 3.9): the highest version offered.
	Protocol string
	// EnabledProtocols is ssl.enabledProtocols; nil means the defaults.
	EnabledProtocols []string
	// CipherSuites is ssl.ciphersuites; nil means Go's defaults.
	CipherSuites []string
	ClientAuth   ClientAuth
	// HostnameVerification is ssl.hostnameVerification (default true):
	// the side that dials checks the peer's certificate against the host
	// it dialed.
	HostnameVerification bool
	// ClientHostnameVerification is ssl.clientHostnameVerification: the
	// accepting side checks the client's certificate against the client's
	// address. It defaults to true for quorum links and false for clients,
	// and is off whenever HostnameVerification is.
	ClientHostnameVerification bool
	// AllowReverseDNS is ssl.allowReverseDnsLookup: when an address does
	// not match, its reverse-DNS name is tried (default: quorum yes,
	// clients no).
	AllowReverseDNS bool
	// HandshakeDetectionTimeout is ssl.handshakeDetectionTimeoutMillis
	// (default 5 s): how long a unified port waits for a connection's first
	// bytes to tell TLS from plain text.
	HandshakeDetectionTimeout time.Duration
}

// DefaultHandshakeDetectionTimeout is Apache's default.
const DefaultHandshakeDetectionTimeout = 5 * time.Second

// Parse reads the settings under prefix from a zoo.cfg's keys (the
// config's Raw map, where "zookeeper.ssl.x" is stored as "ssl.x").
// Settings zkit cannot honour safely are errors; the keys it ignores are
// listed in Ignored.
func Parse(props map[string]string, prefix string) (Settings, error) {
	quorum := prefix == QuorumPrefix
	get := func(k string) (string, bool) {
		v, ok := props[prefix+k]
		return strings.TrimSpace(v), ok
	}
	s := Settings{Prefix: prefix, HandshakeDetectionTimeout: DefaultHandshakeDetectionTimeout}
	var err error
	if s.KeyStore, err = parseStore(props, prefix, "keyStore"); err != nil {
		return s, err
	}
	if s.TrustStore, err = parseStore(props, prefix, "trustStore"); err != nil {
		return s, err
	}
	s.Protocol, _ = get("protocol")
	if s.Protocol != "" {
		if _, err := protocolVersion(s.Protocol, true); err != nil {
			return s, fmt.Errorf("%sprotocol: %w", prefix, err)
		}
	}
	if v, ok := get("enabledProtocols"); ok {
		s.EnabledProtocols = splitList(v)
		if _, _, err := versionRange(s.EnabledProtocols); err != nil {
			return s, fmt.Errorf("%senabledProtocols: %w", prefix, err)
		}
	}
	if v, ok := get("ciphersuites"); ok {
		s.CipherSuites = splitList(v)
		if _, err := cipherSuiteIDs(s.CipherSuites); err != nil {
			return s, fmt.Errorf("%sciphersuites: %w", prefix, err)
		}
	}
	if v, _ := get("clientAuth"); v != "" {
		switch strings.ToUpper(v) {
		case "NEED":
			s.ClientAuth = Need
		case "WANT":
			s.ClientAuth = Want
		case "NONE":
			s.ClientAuth = None
		default:
			return s, fmt.Errorf("%sclientAuth: %q is not one of need, want, none", prefix, v)
		}
	}
	s.HostnameVerification = boolProp(props, prefix+"hostnameVerification", true)
	s.ClientHostnameVerification = s.HostnameVerification && boolProp(props, prefix+"clientHostnameVerification", quorum)
	s.AllowReverseDNS = boolProp(props, prefix+"allowReverseDnsLookup", quorum)
	if v, ok := get("handshakeDetectionTimeoutMillis"); ok {
		ms, err := strconv.Atoi(v)
		if err != nil {
			return s, fmt.Errorf("%shandshakeDetectionTimeoutMillis: %q is not a number", prefix, v)
		}
		if ms >= 1 { // Apache replaces values below 1 by the default
			s.HandshakeDetectionTimeout = time.Duration(ms) * time.Millisecond
		}
	}
	for _, k := range []string{"crl", "ocsp"} {
		if boolProp(props, prefix+k, false) {
			return s, fmt.Errorf("%s%s=true: certificate revocation checking (CRL/OCSP) is not supported by zkit; remove the setting", prefix, k)
		}
	}
	if v, ok := get("context.supplier.class"); ok && v != "" {
		return s, fmt.Errorf("%scontext.supplier.class=%s: a Java SSLContext supplier cannot be loaded by zkit; configure key and trust stores instead", prefix, v)
	}
	return s, nil
}

// Ignored lists the settings of the family at prefix that are present in
// props but have no effect in zkit, each with the reason, for startup
// warnings.
func Ignored(props map[string]string, prefix string) []string {
	reasons := map[string]string{
		prefix + "sslProvider": "Netty's choice of TLS engine; zkit always uses Go's crypto/tls",
	}
	if prefix == QuorumPrefix {
		reasons["sslQuorumReloadCertFiles"] = "certificate files are read once, at startup"
	} else {
		reasons["client.certReload"] = "certificate files are read once, at startup"
	}
	var out []string
	for k, why := range reasons {
		if v, ok := props[k]; ok && !(k == "sslQuorumReloadCertFiles" && v != "true") {
			out = append(out, k+": "+why)
		}
	}
	sort.Strings(out)
	return out
}

func parseStore(props map[string]string, prefix, which string) (Store, error) {
	st := Store{
		Location: strings.TrimSpace(props[prefix+which+".location"]),
		Password: props[prefix+which+".password"],
		Type:     strings.TrimSpace(props[prefix+which+".type"]),
	}
	if path := strings.TrimSpace(props[prefix+which+".passwordPath"]); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return st, fmt.Errorf("%s%s.passwordPath: %w", prefix, which, err)
		}
		// SecretUtils.readSecret drops one trailing line separator.
		st.Password = strings.TrimSuffix(string(b), "\n")
	}
	return st, nil
}

// boolProp is ZKConfig.getBoolean: Boolean.parseBoolean of the trimmed
// value ("true" in any case), or def when the key is absent.
func boolProp(props map[string]string, key string, def bool) bool {
	v, ok := props[key]
	if !ok {
		return def
	}
	return strings.EqualFold(strings.TrimSpace(v), "true")
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// protocolVersion maps a Java protocol name to a TLS version. "TLS" (and
// "SSL", "Default") stand for the newest.
func protocolVersion(name string, context bool) (uint16, error) {
	switch name {
	case "TLSv1.3":
		return tls.VersionTLS13, nil
	case "TLSv1.2":
		return tls.VersionTLS12, nil
	case "TLSv1.1":
		return tls.VersionTLS11, nil
	case "TLSv1":
		return tls.VersionTLS10, nil
	}
	if context {
		switch name {
		case "TLS", "SSL", "Default":
			return tls.VersionTLS13, nil
		}
	}
	return 0, fmt.Errorf("unsupported protocol %q (zkit speaks TLSv1, TLSv1.1, TLSv1.2 and TLSv1.3)", name)
}

// versionRange turns a list of protocols into the min..max range Go can
// express.
func versionRange(names []string) (lo, hi uint16, err error) {
	if len(names) == 0 {
		return 0, 0, fmt.Errorf("no protocol listed")
	}
	for _, n := range names {
		v, err := protocolVersion(n, false)
		if err != nil {
			return 0, 0, err
		}
		if lo == 0 || v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
	}
	return lo, hi, nil
}

// cipherSuiteIDs maps Java (IANA) cipher-suite names to Go's. TLS 1.3
// suites are accepted and skipped: Go always enables all three.
func cipherSuiteIDs(names []string) ([]uint16, error) {
	known := map[string]uint16{}
	for _, cs := range tls.CipherSuites() {
		known[cs.Name] = cs.ID
	}
	for _, cs := range tls.InsecureCipherSuites() {
		known[cs.Name] = cs.ID
	}
	var ids []uint16
	var unknown []string
	for _, n := range names {
		id, ok := known[n]
		switch {
		case !ok:
			unknown = append(unknown, n)
		case id == tls.TLS_AES_128_GCM_SHA256 || id == tls.TLS_AES_256_GCM_SHA384 || id == tls.TLS_CHACHA20_POLY1305_SHA256:
			// TLS 1.3 suites are not configurable in Go.
		default:
			ids = append(ids, id)
		}
	}
	if len(unknown) > 0 && len(unknown) == len(names) {
		return nil, fmt.Errorf("no cipher suite Go supports among %s", strings.Join(names, ","))
	}
	return ids, nil
}
