package config

import "log/slog"

// LogWarnings logs each of c.Warnings at level Warn on logger (the default
// logger if nil), as Apache logs them while reading its config.
func (c *Config) LogWarnings(logger *slog.Logger) {
	if logger == nil {
		logger = slog.Default()
	}
	for _, w := range c.Warnings {
		logger.Warn(w)
	}
}
