package main

import (
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sort"
	"strings"

	"zkit/server/auth"
	"zkit/server/config"
)

// SASL setup of zkit serve.
//
// Apache ZooKeeper finds its JAAS file (the SASL users) through the JVM
// system property java.security.auth.login.config, which zoo.cfg cannot
// set: operators pass it as -D in SERVER_JVMFLAGS or JVMFLAGS (zkServer.sh
// runs java with "$SERVER_JVMFLAGS $JVMFLAGS", the later winning). zkit
// takes the file from, first match wins:
//
//  1. zkit serve --jaas FILE;
//  2. the zoo.cfg key java.security.auth.login.config (a zkit extension);
//  3. -Djava.security.auth.login.config=FILE in JVMFLAGS, then in
//     SERVER_JVMFLAGS, as zkServer.sh would pass them.
//
// The other SASL settings are the zookeeper.* properties Apache reads; each
// is taken from zoo.cfg (as X or zookeeper.X) or else from a
// -Dzookeeper.X=... in those variables: sasl.serverconfig,
// authProvider.*, superUser, superUser.*, SASLAuthenticationProvider.superPassword,
// kerberos.removeHostFromPrincipal, kerberos.removeRealmFromPrincipal,
// letAnySaslUserDoX, allowSaslFailedClients, sessionRequireClientSASLAuth,
// enforce.auth.enabled and enforce.auth.schemes. Other -D flags in those
// variables are not read.

// jvmFlagsEnv lists the variables read, in the order zkServer.sh puts them
// on the java command line.
var jvmFlagsEnv = []string{"SERVER_JVMFLAGS", "JVMFLAGS"}

// jvmProps returns the -Dkey=value system properties of the JVM flag
// variables; a later flag overrides an earlier one, as in java. The
// variables are split on blanks, as zkServer.sh's unquoted $JVMFLAGS is.
func jvmProps(getenv func(string) string) map[string]string {
	props := map[string]string{}
	for _, name := range jvmFlagsEnv {
		for _, f := range strings.Fields(getenv(name)) {
			kv, ok := strings.CutPrefix(f, "-D")
			if !ok {
				continue
			}
			k, v, _ := strings.Cut(kv, "=")
			if k != "" {
				props[k] = v
			}
		}
	}
	return props
}

// saslSettings reads the SASL settings of zoo.cfg and the JVM flag
// variables. It returns nil when nothing about SASL is configured.
func saslSettings(cfg *config.Config, jaasFlag string, getenv func(string) string, log *slog.Logger) (*auth.SASLConfig, error) {
	jvm := jvmProps(getenv)
	// prop is a zookeeper.X setting: zoo.cfg wins over -D, as in Apache
	// (QuorumPeerConfig sets the system property from the file).
	prop := func(name string) (string, bool) {
		if v, ok := cfg.Raw[name]; ok {
			return v, true
		}
		v, ok := jvm["zookeeper."+name]
		return v, ok
	}
	isTrue := func(name string) bool { // Boolean.parseBoolean / getBoolean
		v, _ := prop(name)
		return strings.EqualFold(v, "true")
	}

	sc := &auth.SASLConfig{}
	configured := false

	// The sasl ACL scheme, from authProvider.N classes.
	for _, class := range authProviders(cfg, jvm) {
		switch class {
		case auth.SASLAuthenticationProviderClass:
			sc.Scheme, configured = true, true
		case "org.apache.zookeeper.server.auth.DigestAuthenticationProvider",
			"org.apache.zookeeper.server.auth.IPAuthenticationProvider",
			"org.apache.zookeeper.server.auth.X509AuthenticationProvider":
		default:
			log.Warn("authentication provider class not available in zkit; ignored", "class", class)
		}
	}
	sc.LetAnySASLUserDoX, _ = prop("letAnySaslUserDoX")
	sc.SuperUsers = superUsers(cfg, jvm)
	sc.AllowFailedClients = isTrue("allowSaslFailedClients")

	// Enforcement (AuthenticationHelper).
	if isTrue("sessionRequireClientSASLAuth") {
		sc.Enforce = auth.Enforcement{Enabled: true, Schemes: []string{"sasl"}}
	} else {
		sc.Enforce.Enabled = isTrue("enforce.auth.enabled")
		if v, ok := prop("enforce.auth.schemes"); ok {
			for _, s := range strings.Split(v, ",") {
				sc.Enforce.Schemes = append(sc.Enforce.Schemes, strings.TrimSpace(s))
			}
		}
	}
	if sc.Enforce.Enabled {
		configured = true
	}

	// The login: the JAAS file's Server section.
	path, from := jaasFlag, "--jaas"
	if path == "" {
		if v, ok := cfg.Raw["java.security.auth.login.config"]; ok {
			path, from = v, cfg.Where("java.security.auth.login.config")
		} else if v, ok := jvm["java.security.auth.login.config"]; ok {
			path, from = v, "-Djava.security.auth.login.config in "+strings.Join(jvmFlagsEnv, "/")
		}
	}
	if path != "" {
		login, err := loadSASLLogin(path, from, jaasFlag != "", prop, log)
		if err != nil {
			return nil, err
		}
		if login != nil {
			sc.Login, configured = login, true
		}
	}
	if !configured {
		return nil, nil
	}
	// The enforced schemes are checked against the server's providers
	// (x509 included) when it starts: member.Server.Start fails then.
	return sc, nil
}

// loadSASLLogin reads the JAAS section. A missing section is an error when
// the file was named with --jaas; otherwise, as in Apache, SASL stays off
// (with a warning).
func loadSASLLogin(value, from string, explicit bool, prop func(string) (string, bool), log *slog.Logger) (*auth.SASLLogin, error) {
	path, err := auth.JAASPath(value)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", from, err)
	}
	j, err := auth.LoadJAAS(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", from, err)
	}
	section := auth.DefaultSASLSection
	if v, ok := prop("sasl.serverconfig"); ok {
		section = v
	}
	login, err := j.SASLLogin(section)
	if err != nil {
		return nil, err
	}
	if login == nil {
		if explicit {
			return nil, fmt.Errorf("%s: no JAAS section named %q (the server's SASL users; set zookeeper.sasl.serverconfig to use another)", path, section)
		}
		log.Warn("the JAAS file has no section for the server; SASL logins are off, as in Apache", "file", path, "section", section)
		return nil, nil
	}
	if v, ok := prop("SASLAuthenticationProvider.superPassword"); ok {
		login.SuperPassword = &v
	}
	login.RemoveHost = isExactlyTrue(prop("kerberos.removeHostFromPrincipal"))
	login.RemoveRealm = isExactlyTrue(prop("kerberos.removeRealmFromPrincipal"))
	users := make([]string, 0, len(login.Users))
	for u := range login.Users {
		users = append(users, u)
	}
	sort.Strings(users)
	if len(users) == 0 {
		log.Warn("the JAAS section lists no user_<name> entries: no SASL login can succeed", "file", path, "section", section)
	}
	log.Info("SASL DIGEST-MD5 logins enabled", "file", path, "section", section, "users", users)
	return login, nil
}

// isExactlyTrue is SaslServerCallbackHandler's "true".equals(property).
func isExactlyTrue(v string, ok bool) bool { return ok && v == "true" }

// authProviders lists the authProvider.* classes: zoo.cfg's, then the
// -Dzookeeper.authProvider.* ones whose key zoo.cfg does not set.
func authProviders(cfg *config.Config, jvm map[string]string) []string {
	var out []string
	names := make([]string, 0, len(cfg.AuthProviders))
	for n := range cfg.AuthProviders {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		out = append(out, cfg.AuthProviders[n])
	}
	for _, k := range sortedKeys(jvm) {
		if n, ok := strings.CutPrefix(k, "zookeeper.authProvider."); ok && n != "" {
			if _, set := cfg.AuthProviders[n]; !set && !slices.Contains(out, jvm[k]) {
				out = append(out, jvm[k])
			}
		}
	}
	return out
}

// superUsers lists zookeeper.superUser and zookeeper.superUser.* values.
func superUsers(cfg *config.Config, jvm map[string]string) []string {
	out := append([]string(nil), cfg.SuperUsers...)
	for _, k := range sortedKeys(jvm) {
		name, ok := strings.CutPrefix(k, "zookeeper.")
		if !ok || (name != "superUser" && !strings.HasPrefix(name, "superUser.")) {
			continue
		}
		if _, set := cfg.Raw[name]; !set {
			out = append(out, jvm[k])
		}
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// osGetenv is os.Getenv, a seam for tests.
var osGetenv = os.Getenv
