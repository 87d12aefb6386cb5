# make install / make uninstall for newsd.
#   make install [PREFIX=/usr/local] [DESTDIR=]   builds (release), then installs binaries, the unit,
#                                                 man pages, shell completions and, if none is there, a config
#   make uninstall                                removes them; the config and the archive stay
# BIN_DIR=... SKIP_BUILD=1 installs binaries built elsewhere; NO_MAN=1 skips the man pages.

PREFIX ?= /usr/local
DESTDIR ?=
BIN_DIR ?= .build/release
bindir = $(DESTDIR)$(PREFIX)/bin
mandir = $(DESTDIR)$(PREFIX)/share/man/man1
man5dir = $(DESTDIR)$(PREFIX)/share/man/man5
bashdir = $(DESTDIR)$(PREFIX)/share/bash-completion/completions
zshdir = $(DESTDIR)$(PREFIX)/share/zsh/site-functions
fishdir = $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
unitdir = $(DESTDIR)/etc/systemd/system
confdir = $(DESTDIR)/etc/newsd

.PHONY: build man install uninstall

build:
ifndef SKIP_BUILD
	scripts/install-deps
	swift build -c release --product newsd
	swift build -c release --product newsctl
endif

man:
ifndef NO_MAN
	mkdir -p .build/man
	swift package --allow-writing-to-directory .build/man generate-manual --output-directory .build/man
	$(BIN_DIR)/newsd --config-manual > .build/man/newsd.toml.5
endif

install: build man
	install -D -m 0755 $(BIN_DIR)/newsd $(bindir)/newsd
	install -D -m 0755 $(BIN_DIR)/newsctl $(bindir)/newsctl
	mkdir -p $(unitdir)
	sed 's|/usr/local/bin/newsd|$(PREFIX)/bin/newsd|' systemd/newsd.service > $(unitdir)/newsd.service
	chmod 0644 $(unitdir)/newsd.service
	[ -e $(confdir)/newsd.toml ] || install -D -m 0644 config/system.toml $(confdir)/newsd.toml
	mkdir -p $(bashdir) $(zshdir) $(fishdir)
	$(BIN_DIR)/newsctl --generate-completion-script bash > $(bashdir)/newsctl
	$(BIN_DIR)/newsctl --generate-completion-script zsh > $(zshdir)/_newsctl
	$(BIN_DIR)/newsctl --generate-completion-script fish > $(fishdir)/newsctl.fish
ifndef NO_MAN
	install -D -m 0644 .build/man/newsd.1 $(mandir)/newsd.1
	install -D -m 0644 .build/man/newsctl.1 $(mandir)/newsctl.1
	install -D -m 0644 .build/man/newsd.toml.5 $(man5dir)/newsd.toml.5
endif

uninstall:
	rm -f $(bindir)/newsd $(bindir)/newsctl $(unitdir)/newsd.service $(mandir)/newsd.1 $(mandir)/newsctl.1 \
		$(man5dir)/newsd.toml.5
	rm -f $(bashdir)/newsctl $(zshdir)/_newsctl $(fishdir)/newsctl.fish
