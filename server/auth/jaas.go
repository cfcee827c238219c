package auth

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"unicode/utf8"
)

// A JAAS login configuration file, as the JDK reads the file named by
// java.security.auth.login.config:
//
//	Server {
//	    org.apache.zookeeper.server.auth.DigestLoginModule required
//	    user_super="adminsecret"
//	    user_bob="bobsecret";
//	};
//
// Each section names login modules, each with a control flag and options
// (key=value, values double-quoted or plain words), ended by ';'. Comments
// are // and /* */. ZooKeeper's server reads the section named by
// zookeeper.sasl.serverconfig (default "Server"). Not supported: ${...}
// property expansion in values (an error), and more than one file.

// JAASModule is one login module entry of a section.
type JAASModule struct {
	Class   string
	Flag    string            // REQUIRED, REQUISITE, SUFFICIENT or OPTIONAL
	Options map[string]string // the last value of a repeated key wins
	Line    int
}

// JAAS is a parsed login configuration.
type JAAS struct {
	File     string
	Sections map[string][]JAASModule
}

// DefaultSASLSection is the JAAS section ZooKeeper's server reads unless
// zookeeper.sasl.serverconfig names another.
const DefaultSASLSection = "Server"

// The login modules zkit knows.
const (
	DigestLoginModule = "org.apache.zookeeper.server.auth.DigestLoginModule"
	Krb5LoginModule   = "com.sun.security.auth.module.Krb5LoginModule"
)

// JAASPath turns a java.security.auth.login.config value into a file path:
// a leading "=" (use only this file) is dropped, and a file: URL becomes
// its path.
func JAASPath(value string) (string, error) {
	v := strings.TrimPrefix(value, "=")
	if v == "" {
		return "", fmt.Errorf("empty JAAS login configuration path %q", value)
	}
	if strings.Contains(v, "${") {
		return "", fmt.Errorf("JAAS login configuration path %q: ${...} property expansion is not supported by zkit", value)
	}
	if i := strings.Index(v, ":"); i > 1 { // a URL scheme, not a Windows drive letter
		u, err := url.Parse(v)
		if err == nil && u.Scheme != "" {
			if !strings.EqualFold(u.Scheme, "file") {
				return "", fmt.Errorf("JAAS login configuration %q: only files and file: URLs are supported", value)
			}
			if u.Path == "" {
				return u.Opaque, nil
			}
			return u.Path, nil
		}
	}
	return v, nil
}

// LoadJAAS reads and parses a JAAS login configuration file.
func LoadJAAS(path string) (*JAAS, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("JAAS login configuration: %w", err)
	}
	return ParseJAAS(data, path)
}

// jaasTok is a token of the JAAS syntax: a word, a quoted string, or one of
// the characters { } ; =.
type jaasTok struct {
	kind byte // 'w' word, 'q' quoted string, 'e' end of file, or the character
	text string
	line int
}

type jaasLexer struct {
	src  []byte
	pos  int
	line int
	name string
}

func (l *jaasLexer) errf(line int, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", l.name, line, fmt.Sprintf(format, args...))
}

// The character classes of Java's StreamTokenizer as the JAAS parser sets
// it up: letters, $ _ * and characters from U+00A0 start a word; digits,
// '.' and '-' continue one.
func jaasWordStart(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '$' || r == '_' || r == '*' || r >= 0xa0
}

func jaasWordPart(r rune) bool {
	return jaasWordStart(r) || r >= '0' && r <= '9' || r == '.' || r == '-'
}

func (l *jaasLexer) next() (jaasTok, error) {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == '\n':
			l.line++
			l.pos++
		case c <= ' ':
			l.pos++
		case c == '/' && l.pos+1 < len(l.src) && l.src[l.pos+1] == '*':
			end := strings.Index(string(l.src[l.pos+2:]), "*/")
			if end < 0 {
				return jaasTok{}, l.errf(l.line, "unterminated /* comment")
			}
			l.line += strings.Count(string(l.src[l.pos:l.pos+2+end]), "\n")
			l.pos += end + 4
		case c == '/':
			// "//", and like Java's tokenizer a lone '/', comment out the
			// rest of the line.
			for l.pos < len(l.src) && l.src[l.pos] != '\n' {
				l.pos++
			}
		default:
			return l.token()
		}
	}
	return jaasTok{kind: 'e', line: l.line}, nil
}

func (l *jaasLexer) token() (jaasTok, error) {
	line := l.line
	c := l.src[l.pos]
	switch c {
	case '{', '}', ';', '=':
		l.pos++
		return jaasTok{kind: c, text: string(c), line: line}, nil
	case '"':
		return l.quoted()
	case '\'':
		return jaasTok{}, l.errf(line, "single-quoted strings are not accepted in a JAAS file; use double quotes")
	}
	r, size := utf8.DecodeRune(l.src[l.pos:])
	if r >= '0' && r <= '9' || r == '.' || r == '-' {
		return jaasTok{}, l.errf(line, "a value starting with %q must be double-quoted", r)
	}
	if !jaasWordStart(r) {
		return jaasTok{}, l.errf(line, "unexpected character %q", r)
	}
	start := l.pos
	l.pos += size
	for l.pos < len(l.src) {
		r, size := utf8.DecodeRune(l.src[l.pos:])
		if !jaasWordPart(r) {
			break
		}
		l.pos += size
	}
	return jaasTok{kind: 'w', text: string(l.src[start:l.pos]), line: line}, nil
}

// quoted reads a double-quoted string with Java's escapes (\n, \t, octal,
// \<char>). Like Java's tokenizer, it may not span lines.
func (l *jaasLexer) quoted() (jaasTok, error) {
	line := l.line
	l.pos++
	var b strings.Builder
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == '"':
			l.pos++
			return jaasTok{kind: 'q', text: b.String(), line: line}, nil
		case c == '\n' || c == '\r':
			return jaasTok{}, l.errf(line, "unterminated quoted string")
		case c == '\\' && l.pos+1 < len(l.src):
			l.pos++
			e := l.src[l.pos]
			l.pos++
			switch e {
			case 'a':
				b.WriteByte(7)
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'v':
				b.WriteByte('\v')
			default:
				if e >= '0' && e <= '7' {
					n := int(e - '0')
					max := 2
					if e > '3' {
						max = 1
					}
					for k := 0; k < max && l.pos < len(l.src) && l.src[l.pos] >= '0' && l.src[l.pos] <= '7'; k++ {
						n = n*8 + int(l.src[l.pos]-'0')
						l.pos++
					}
					b.WriteRune(rune(n))
				} else {
					b.WriteByte(e)
				}
			}
		default:
			b.WriteByte(c)
			l.pos++
		}
	}
	return jaasTok{}, l.errf(line, "unterminated quoted string")
}

// ParseJAAS parses a JAAS login configuration; name is used in errors.
func ParseJAAS(data []byte, name string) (*JAAS, error) {
	l := &jaasLexer{src: data, line: 1, name: name}
	p := &jaasParser{lex: l}
	if err := p.advance(); err != nil {
		return nil, err
	}
	j := &JAAS{File: name, Sections: map[string][]JAASModule{}}
	for p.tok.kind != 'e' {
		if err := p.section(j); err != nil {
			return nil, err
		}
	}
	return j, nil
}

type jaasParser struct {
	lex *jaasLexer
	tok jaasTok
}

func (p *jaasParser) advance() error {
	t, err := p.lex.next()
	p.tok = t
	return err
}

func (p *jaasParser) describe() string {
	switch p.tok.kind {
	case 'e':
		return "end of file"
	case 'q':
		return fmt.Sprintf("%q", p.tok.text)
	}
	return "'" + p.tok.text + "'"
}

// text consumes a word or quoted string.
func (p *jaasParser) text(what string) (string, error) {
	if p.tok.kind != 'w' && p.tok.kind != 'q' {
		return "", p.lex.errf(p.tok.line, "expected %s, found %s", what, p.describe())
	}
	s := p.tok.text
	return s, p.advance()
}

func (p *jaasParser) expect(c byte) error {
	if p.tok.kind != c {
		return p.lex.errf(p.tok.line, "expected '%c', found %s", c, p.describe())
	}
	return p.advance()
}

func (p *jaasParser) section(j *JAAS) error {
	line := p.tok.line
	appName, err := p.text("a section name")
	if err != nil {
		return err
	}
	if err := p.expect('{'); err != nil {
		return err
	}
	var mods []JAASModule
	for p.tok.kind != '}' {
		m := JAASModule{Options: map[string]string{}, Line: p.tok.line}
		if m.Class, err = p.text("a login module class name"); err != nil {
			return err
		}
		flagLine := p.tok.line
		flag, err := p.text("a control flag (required, requisite, sufficient or optional)")
		if err != nil {
			return err
		}
		m.Flag = strings.ToUpper(flag)
		switch m.Flag {
		case "REQUIRED", "REQUISITE", "SUFFICIENT", "OPTIONAL":
		default:
			return p.lex.errf(flagLine, "invalid control flag %q (required, requisite, sufficient or optional)", flag)
		}
		for p.tok.kind != ';' {
			key, err := p.text("an option name or ';'")
			if err != nil {
				return err
			}
			if err := p.expect('='); err != nil {
				return err
			}
			valLine := p.tok.line
			val, err := p.text("an option value")
			if err != nil {
				return err
			}
			if strings.Contains(val, "${") {
				return p.lex.errf(valLine, "option %s: ${...} property expansion is not supported by zkit", key)
			}
			m.Options[key] = val
		}
		if err := p.advance(); err != nil { // the ';'
			return err
		}
		mods = append(mods, m)
	}
	if err := p.advance(); err != nil { // the '}'
		return err
	}
	if err := p.expect(';'); err != nil {
		return err
	}
	if _, dup := j.Sections[appName]; dup {
		return p.lex.errf(line, "section %q is given more than once", appName)
	}
	j.Sections[appName] = mods
	return nil
}

// SASLLogin builds the DIGEST-MD5 users of a section from its
// user_<name>="<password>" options. It returns nil, nil if the section is
// missing (Apache then runs without SASL). GSSAPI (Krb5LoginModule) and
// other login modules are errors: zkit supports DIGEST-MD5 only.
func (j *JAAS) SASLLogin(section string) (*SASLLogin, error) {
	mods, ok := j.Sections[section]
	if !ok {
		return nil, nil
	}
	login := &SASLLogin{Users: map[string]string{}}
	for _, m := range mods {
		switch m.Class {
		case DigestLoginModule:
		case Krb5LoginModule:
			return nil, fmt.Errorf("%s:%d: section %s uses %s: SASL with GSSAPI (Kerberos) is not supported by zkit; use DIGEST-MD5 (%s with user_<name>=\"<password>\" options)",
				j.File, m.Line, section, m.Class, DigestLoginModule)
		default:
			return nil, fmt.Errorf("%s:%d: section %s uses login module %s, which zkit does not support; zkit serves SASL DIGEST-MD5 only (%s with user_<name>=\"<password>\" options; GSSAPI/Kerberos is not supported)",
				j.File, m.Line, section, m.Class, DigestLoginModule)
		}
		for k, v := range m.Options {
			if user, ok := strings.CutPrefix(k, "user_"); ok {
				login.Users[user] = v
			}
		}
	}
	return login, nil
}
