/**
 * The environment variables a manifest may not fill, as data (DESIGN.md §2, issue 10).
 *
 * A manifest's author picks variable names; the values are the user's. So an alias,
 * `VAR = other-key`, lets a stranger choose which of your values lands where: into
 * the variables below, a value changes how a program, shell, loader or interpreter
 * behaves, or is published. Only the user's own key of the same name may set those
 * (`HTTPS_PROXY` ← your key `HTTPS_PROXY`). `hard` names and prefixes are refused
 * in every form: the shell itself acts on them at the prompt, or they run a command
 * or load code from the value, so even your own value, read in a cloned repo
 * (relative paths resolve there), is a way in.
 *
 * One entry per family, with what goes wrong. Sources: bash(1) Shell Variables,
 * zshparam(1), fish's variables docs, ld.so(8), tunables(3), locale(7), perlrun(1),
 * python(1), ruby(1), node(1), git(1), ssh(1), gpg(1), less(1), curl(1), pip, npm
 * config, `go help environment`, cargo's Environment Variables, docker, kubectl, aws.
 */

/** One family of variables, and what a value chosen by someone else does there. */
export interface VariableFamily {
  /** Who reads them, for the message ("it is read by perl"). */
  readonly reader: string;
  /** What a value picked by the manifest's author does there ("and a value there can run code"). */
  readonly risk: string;
  /** Refused in every form, even from the user's key of the same name. */
  readonly hard?: readonly string[];
  readonly hardPrefixes?: readonly string[];
  /** Refused as an alias target: exact names, prefixes, suffixes, whole-name patterns. */
  readonly names?: readonly string[];
  readonly prefixes?: readonly string[];
  readonly suffixes?: readonly string[];
  /** Where a prefix would catch unrelated names (GO* must not catch GOOGLE_API_KEY). */
  readonly patterns?: readonly RegExp[];
  /** The readers ignore case (Python's urllib for *_proxy, npm for npm_config_*). */
  readonly anyCase?: boolean;
}

export const FAMILIES: readonly VariableFamily[] = [
  // keyrack's own state (KEYRACK_STATE, the hook's __keyrack_* variables) and
  // direnv's: a manifest that set them would rewrite what the hook believes it set.
  { reader: 'keyrack and direnv', risk: 'it rewrites their own state', hardPrefixes: ['KEYRACK_', '__keyrack', 'DIRENV_'] },

  // Where every program finds commands, its home, its files and who you are.
  {
    reader: 'every program', risk: 'it decides which commands run and where files are read and written',
    hard: ['PATH', 'HOME', 'SHELL', 'USER', 'LOGNAME', 'PWD', 'OLDPWD', 'TMPDIR'],
    names: ['TMP', 'TEMP', 'TEMPDIR', 'MANPATH', 'INFOPATH'],
  },

  // ld.so(8), glibc: LD_PRELOAD / LD_AUDIT / LD_LIBRARY_PATH load a library from the
  // value; LD_DEBUG_OUTPUT, MALLOC_TRACE, SEGFAULT_OUTPUT_NAME write a file it names;
  // iconv loads gconv modules from GCONV_PATH; GLIBC_TUNABLES was CVE-2023-4911;
  // LOCPATH and NLSPATH parse locale data and message catalogs (format strings) from
  // where they point; the resolver variables send name lookups elsewhere.
  {
    reader: 'the dynamic loader and libc', risk: 'it can load and run code from the path it names, or write files there',
    hard: ['GCONV_PATH', 'GLIBC_TUNABLES', 'LOCPATH', 'NLSPATH'], hardPrefixes: ['LD_', 'DYLD_'],
    names: ['HOSTALIASES', 'LOCALDOMAIN', 'RES_OPTIONS', 'RESOLV_HOST_CONF', 'MALLOC_TRACE', 'MEMUSAGE_OUTPUT',
      'SEGFAULT_OUTPUT_NAME', 'SEGFAULT_SIGNALS', 'GMON_OUT_PREFIX', 'LIBC_FATAL_STDERR_', 'POSIXLY_CORRECT', 'TZDIR'],
    prefixes: ['MALLOC_'],
  },

  // locale(7), tzset(3): LANG and LC_* pick the locale every program parses text
  // with; a TZ value holding a slash (as a URL does) names a tzfile to parse,
  // relative to the current directory, so a repo can supply it.
  { reader: 'libc in every program', risk: 'it changes how text and times are parsed (a TZ holding a slash names a file to read)', names: ['LANG', 'LANGUAGE', 'TZ'], prefixes: ['LC_'] },

  // bash(1) Shell Variables: BASH_ENV and ENV name a file every non-interactive
  // bash / sh sources; BASH_FUNC_* imports functions; HISTFILE writes what you type
  // where it says; CDPATH, GLOBIGNORE, EXECIGNORE change what cd, globs and command
  // lookup do; INPUTRC rebinds keys; TMOUT closes the shell.
  {
    reader: 'bash and sh', risk: 'it runs code when a shell starts, or changes what commands do',
    hard: ['IFS', 'ENV', 'BASHOPTS', 'SHELLOPTS', 'BASHPID', 'CDPATH', 'GLOBIGNORE', 'EXECIGNORE', 'INPUTRC', 'MAIL',
      'MAILPATH', 'TMOUT', 'COMP_WORDBREAKS', 'HISTFILE', 'HISTFILESIZE', 'HISTSIZE', 'HISTCONTROL', 'HISTIGNORE',
      'HISTTIMEFORMAT', 'HISTCMD', 'HISTCHARS', 'HISTORY_IGNORE', 'SAVEHIST'],
    hardPrefixes: ['BASH_'],
    names: ['MAILCHECK', 'TIMEFORMAT', 'HOSTFILE', 'FCEDIT', 'FIGNORE', 'FUNCNEST', 'OPTERR', 'auto_resume', 'CHILD_MAX', 'EMACS', 'INSIDE_EMACS'],
    prefixes: ['HIST', 'COMP_', 'READLINE_'],
  },

  // Prompts (bash PROMPT_COMMAND, PS0–PS4; zsh PROMPT*, RPROMPT, SPROMPT, psvar):
  // expanded at every prompt, with command substitution, and shown on screen.
  {
    reader: 'your shell at every prompt', risk: 'it is expanded there, where it can run commands, and shown on screen',
    hard: ['PROMPT_COMMAND', 'PS0', 'PS1', 'PS2', 'PS3', 'PS4', 'PROMPT', 'PROMPT2', 'PROMPT3', 'PROMPT4', 'prompt', 'RPROMPT',
      'RPROMPT2', 'RPS1', 'RPS2', 'SPROMPT', 'PROMPT_EOL_MARK', 'POSTEDIT', 'psvar', 'PSVAR'],
    names: ['PROMPT_DIRTRIM'],
    prefixes: ['PROMPT_', 'RPROMPT', 'RPS'],
    patterns: [/^PS\d+$/, /^PROMPT\d*$/],
  },

  // zshparam(1) Parameters Used By The Shell: NULLCMD / READNULLCMD are run for a
  // bare redirection, STTY runs stty with the value, ZDOTDIR picks the .zshrc that
  // runs, FPATH / MODULE_PATH load functions and modules; ARGV0, exported, becomes
  // argv[0] of every external command (readable by every user in ps); ZBEEP is
  // printed to the terminal instead of a beep.
  {
    reader: 'zsh', risk: 'it runs commands or loads code, or shows the value to other users (ARGV0 in ps)',
    hard: ['ARGV0', 'NULLCMD', 'READNULLCMD', 'STTY', 'TMPPREFIX', 'ZDOTDIR', 'ZSH', 'FPATH', 'fpath', 'MODULE_PATH', 'module_path',
      'path', 'cdpath', 'manpath', 'mailpath', 'histchars', 'precmd_functions', 'chpwd_functions', 'preexec_functions',
      'periodic_functions', 'zshaddhistory_functions', 'zshexit_functions', 'ZLE_RPROMPT_INDENT', 'ZBEEP', 'WATCH', 'watch',
      'WATCHFMT', 'KEYBOARD_HACK'],
    hardPrefixes: ['ZSH_'],
    names: ['TMPSUFFIX', 'TIMEFMT', 'REPORTTIME', 'REPORTMEMORY', 'KEYTIMEOUT', 'WORDCHARS', 'LISTMAX', 'LOGCHECK', 'DIRSTACKSIZE', 'BAUD'],
    prefixes: ['ZLE_'],
  },

  // fish: fish_function_path / fish_complete_path autoload code, fish_user_paths
  // prepends to PATH; the rest are fish's read-only variables.
  {
    reader: 'fish', risk: 'it loads code or changes fish\'s own state',
    hard: ['status', 'pipestatus', 'version', 'hostname', 'history', 'argv', 'umask', 'CMD_DURATION', 'FISH_VERSION', 'last_pid', 'status_generation'],
    hardPrefixes: ['fish_', '__fish'],
  },

  // Variables every shell sets and keeps for itself; setting one breaks the shell.
  {
    reader: 'your shell', risk: 'the shell keeps it for itself',
    hard: ['SHLVL', 'UID', 'EUID', 'PPID', 'RANDOM', 'SRANDOM', 'SECONDS', 'LINENO', 'OPTIND', 'OPTARG', 'COLUMNS', 'LINES',
      'EPOCHSECONDS', 'EPOCHREALTIME', 'GROUPS', 'DIRSTACK', 'FUNCNAME'],
  },

  // terminfo(5): the terminal description holds the escape sequences programs send;
  // TERMINFO / TERMINFO_DIRS read it from where they point.
  { reader: 'curses programs', risk: 'they read terminal descriptions (escape sequences they send) from where it points', hard: ['TERM', 'TERMINFO', 'TERMINFO_DIRS', 'TERMCAP'], prefixes: ['TERMINFO'] },

  // perlrun(1): PERL5LIB / PERLLIB prepend module directories (a URL value names a
  // relative directory, `https`, a repo can ship), PERL5OPT adds switches (-M runs
  // code), PERL5DB is the debugger's code, PERLIO_DEBUG writes a file.
  { reader: 'perl', risk: 'a value there can load and run code', hard: ['PERL5LIB', 'PERL5OPT', 'PERLLIB', 'PERL5DB'], prefixes: ['PERL'] },

  // python(1): PYTHONPATH / PYTHONHOME / PYTHONSTARTUP load code; PYTHONBREAKPOINT
  // and PYTHONWARNINGS import what they name.
  { reader: 'python', risk: 'a value there can load and run code', hard: ['PYTHONPATH', 'PYTHONSTARTUP', 'PYTHONHOME', 'PYTHONBREAKPOINT', 'PYTHONWARNINGS'], prefixes: ['PYTHON'] },

  // pip, uv, poetry, pipenv, twine: index URLs (your value sent to, and packages
  // installed from, the server it names), config files, per-repository credentials
  // whose repository the project names.
  { reader: 'Python package tools', risk: 'it picks the server your credentials and installs go to', prefixes: ['PIP_', 'UV_', 'POETRY_', 'PIPENV_', 'TWINE_'] },

  // ruby(1): RUBYOPT (-r runs code), RUBYLIB; gem and bundler: GEM_HOME / GEM_PATH
  // load gems from there, BUNDLE_GEMFILE is Ruby code, BUNDLE_<HOST> sends a
  // credential to the host in the variable's name.
  { reader: 'ruby, gem and bundler', risk: 'a value there can load and run code, or go to another host', hard: ['RUBYLIB', 'RUBYOPT', 'BUNDLE_GEMFILE'], prefixes: ['RUBY', 'GEM_', 'BUNDLE_'] },

  // node(1): NODE_OPTIONS (--require runs code), NODE_PATH, NODE_EXTRA_CA_CERTS
  // (trust another CA), NODE_TLS_REJECT_UNAUTHORIZED, NODE_REDIRECT_WARNINGS writes
  // a file; deno and bun read their own the same way.
  { reader: 'node, deno and bun', risk: 'a value there can load code or change whom TLS trusts', hard: ['NODE_OPTIONS', 'NODE_PATH', 'NODE_EXTRA_CA_CERTS'], prefixes: ['NODE_', 'DENO_', 'BUN_'] },

  // npm config: any npm_config_* is a config key, in any case (registry, _authToken,
  // script-shell, node-options...): a value there goes to the registry it names.
  { reader: 'npm', risk: 'it can set any npm setting, the registry your tokens go to included', prefixes: ['npm_config_'], anyCase: true },
  { reader: 'yarn and pnpm', risk: 'it can set any of their settings, the registry your tokens go to included', prefixes: ['YARN_', 'PNPM_'] },

  // The JVM reads JAVA_TOOL_OPTIONS / _JAVA_OPTIONS / JDK_JAVA_OPTIONS as extra
  // options (-javaagent runs code); CLASSPATH and the build tools' *_OPTS likewise.
  {
    reader: 'the JVM and its build tools', risk: 'a value there can load and run code',
    hard: ['JAVA_TOOL_OPTIONS', '_JAVA_OPTIONS', 'JDK_JAVA_OPTIONS'],
    names: ['CLASSPATH', 'JAVA_HOME', 'JAVA_OPTS', 'JVM_OPTS', 'MAVEN_OPTS', 'MAVEN_ARGS', 'GRADLE_OPTS', 'GRADLE_USER_HOME', 'ANT_OPTS', 'SBT_OPTS'],
  },

  // lua(1): LUA_INIT is code run at start, LUA_PATH / LUA_CPATH module paths; PHPRC
  // and PHP_INI_SCAN_DIR pick php.ini (auto_prepend_file runs code); tcl and R alike.
  {
    reader: 'lua, php, tcl and R', risk: 'a value there can load and run code',
    hardPrefixes: ['LUA_INIT'],
    names: ['PHPRC', 'PHP_INI_SCAN_DIR', 'TCLLIBPATH', 'R_PROFILE', 'R_PROFILE_USER', 'R_ENVIRON', 'R_ENVIRON_USER', 'R_LIBS', 'R_LIBS_USER'],
    prefixes: ['LUA_'],
  },

  // make, compilers, pkg-config, cmake, cgo: CC and friends are commands that get
  // run, *FLAGS reach the compiler (-fplugin loads code), COMPILER_PATH and
  // GCC_EXEC_PREFIX pick the programs gcc runs.
  {
    reader: 'make and the compilers', risk: 'it names commands that get run, or flags that load code',
    names: ['CC', 'CXX', 'CPP', 'LD', 'AR', 'AS', 'NM', 'RANLIB', 'STRIP', 'OBJCOPY', 'OBJDUMP', 'CFLAGS', 'CXXFLAGS', 'CPPFLAGS',
      'LDFLAGS', 'LDLIBS', 'MAKE', 'MAKEFLAGS', 'MFLAGS', 'MAKEFILES', 'GCC_EXEC_PREFIX', 'COMPILER_PATH', 'LIBRARY_PATH', 'CPATH',
      'C_INCLUDE_PATH', 'CPLUS_INCLUDE_PATH', 'PKG_CONFIG', 'PKG_CONFIG_PATH', 'PKG_CONFIG_LIBDIR', 'PKG_CONFIG_SYSROOT_DIR'],
    prefixes: ['CMAKE_', 'CGO_'],
  },

  // `go help environment`: GOFLAGS, GOPROXY / GOPRIVATE / GONOSUMDB / GOINSECURE
  // (where modules and your credentials go), GOTOOLCHAIN (downloads and runs a Go),
  // GOENV, GOAUTH (runs a command)... Go's names have no underscore after GO, so
  // GOOGLE_API_KEY is not one of them.
  { reader: 'go', risk: 'it changes where modules come from and which toolchain runs', names: ['GCCGO'], prefixes: ['GO_'], patterns: [/^GO[A-Z0-9]*$/] },

  // cargo, rustc, rustup: RUSTC_WRAPPER runs a command around every rustc,
  // CARGO_TARGET_<triple>_RUNNER runs binaries, CARGO_REGISTRIES_* hold tokens for a
  // registry the project names, RUSTUP_TOOLCHAIN can be a path.
  {
    reader: 'cargo, rustc and rustup', risk: 'it names commands that get run, or the registry your token goes to',
    hard: ['RUSTC_WRAPPER', 'RUSTC_WORKSPACE_WRAPPER', 'CARGO_BUILD_RUSTC_WRAPPER'],
    names: ['RUSTC', 'RUSTDOC', 'RUSTFLAGS', 'RUSTDOCFLAGS'], prefixes: ['CARGO_', 'RUSTC_', 'RUSTUP_'],
  },

  // git(1): GIT_SSH_COMMAND, GIT_ASKPASS, GIT_EDITOR, GIT_PAGER, GIT_EXTERNAL_DIFF,
  // GIT_PROXY_COMMAND run commands; GIT_CONFIG_* set any config (core.fsmonitor
  // runs a command); GIT_DIR picks the repository whose hooks run;
  // GIT_HTTP_USER_AGENT is sent to every HTTP remote; GIT_SSL_NO_VERIFY turns off
  // TLS checks; GIT_TRACE* write traces (with auth headers) to a file the value names.
  {
    reader: 'git', risk: 'it can run commands, send the value to remotes or turn off TLS checks',
    hard: ['GIT_SSH', 'GIT_SSH_COMMAND', 'GIT_EXEC_PATH', 'GIT_ASKPASS', 'GIT_EDITOR', 'GIT_SEQUENCE_EDITOR', 'GIT_PAGER',
      'GIT_EXTERNAL_DIFF', 'GIT_PROXY_COMMAND', 'GIT_CONFIG', 'GIT_CONFIG_GLOBAL', 'GIT_CONFIG_SYSTEM', 'GIT_CONFIG_PARAMETERS',
      'GIT_CONFIG_COUNT', 'GIT_TEMPLATE_DIR', 'GIT_DIR'],
    hardPrefixes: ['GIT_CONFIG_KEY_', 'GIT_CONFIG_VALUE_'],
    prefixes: ['GIT_'],
  },

  // ssh(1): SSH_AUTH_SOCK picks the agent that signs for you, SSH_ASKPASS runs a
  // command for passphrases, SSH_SK_PROVIDER loads a library.
  { reader: 'ssh', risk: 'it picks the agent that signs for you or runs a command', hard: ['SSH_AUTH_SOCK', 'SSH_ASKPASS', 'SSH_ASKPASS_REQUIRE', 'SSH_SK_PROVIDER'], prefixes: ['SSH_'] },

  // gpg(1) and pass(1): GNUPGHOME picks the keyring and gpg.conf (which can run
  // programs); PASSWORD_STORE_EXTENSIONS_DIR runs scripts, _GPG_OPTS passes options.
  {
    reader: 'gpg and pass', risk: 'it picks the keyring and config, or runs scripts',
    hard: ['GNUPGHOME', 'PASSWORD_STORE_EXTENSIONS_DIR', 'PASSWORD_STORE_GPG_OPTS'],
    names: ['GPG_AGENT_INFO', 'GPG_TTY', 'PINENTRY_USER_DATA'], prefixes: ['PASSWORD_STORE_'],
  },

  // Commands other programs run for you: editors, pagers, browsers, askpass;
  // less(1): LESSOPEN / LESSCLOSE run a command per file, LESSKEY / LESSSECURE.
  {
    reader: 'programs that start an editor, pager or browser', risk: 'it is the command they run',
    hard: ['EDITOR', 'VISUAL', 'PAGER', 'BROWSER', 'MANPAGER', 'LESSOPEN', 'LESSCLOSE', 'FCEDIT', 'SUDO_ASKPASS', 'SUDO_EDITOR',
      'KUBE_EDITOR', 'SYSTEMD_EDITOR', 'SYSTEMD_PAGER'],
    names: ['MANOPT', 'MANROFFOPT'], prefixes: ['LESS', 'SYSTEMD_', 'SUDO_'],
  },

  // XDG base directories: where every program reads its config and data (fish runs
  // $XDG_DATA_DIRS/fish/vendor_conf.d/*.fish); the desktop's display, bus and
  // plugin paths (GTK, Qt, GStreamer, Vulkan, SASL and Kerberos load modules).
  {
    reader: 'programs that follow the XDG base directories, and desktop libraries', risk: 'it picks the config and code programs load, or the display and bus they talk to',
    hard: ['XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_STATE_HOME', 'XDG_RUNTIME_DIR', 'XDG_CACHE_HOME', 'XDG_DATA_DIRS', 'XDG_CONFIG_DIRS',
      'DBUS_SESSION_BUS_ADDRESS'],
    names: ['DISPLAY', 'WAYLAND_DISPLAY', 'XAUTHORITY', 'GTK_PATH', 'GTK_MODULES', 'GIO_MODULE_DIR', 'GIO_EXTRA_MODULES', 'QT_PLUGIN_PATH',
      'QT_QPA_PLATFORM_PLUGIN_PATH', 'GST_PLUGIN_PATH', 'GST_PLUGIN_SYSTEM_PATH', 'LIBGL_DRIVERS_PATH', 'VK_ICD_FILENAMES',
      'VK_LAYER_PATH', 'VK_ADD_LAYER_PATH', 'SASL_PATH', 'KRB5_CONFIG', 'KRB5CCNAME'],
    prefixes: ['XDG_', 'DBUS_'],
  },

  // curl(1) and every HTTP client: *_proxy routes traffic (and what you send)
  // through the host it names. Python reads them in any case, curl mostly lower.
  { reader: 'curl, git, Python and most HTTP clients', risk: 'it routes your traffic, and what you send, through the server it names', suffixes: ['_PROXY'], anyCase: true },

  // TLS: which CAs are trusted (SSL_CERT_FILE, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE),
  // OPENSSL_CONF (loads engines: code), SSLKEYLOGFILE (writes the session keys of
  // every TLS connection to a file named by the value); curl's own CURL_HOME picks
  // a .curlrc; wget's WGETRC and NETRC files alike.
  {
    reader: 'TLS libraries and HTTP tools', risk: 'it changes whom TLS trusts, loads code, or writes session keys to a file',
    hard: ['OPENSSL_CONF', 'OPENSSL_ENGINES', 'OPENSSL_MODULES'],
    names: ['SSLKEYLOGFILE', 'REQUESTS_CA_BUNDLE', 'NIX_SSL_CERT_FILE', 'WGETRC', 'NETRC'],
    prefixes: ['SSL_', 'CURL_', 'OPENSSL_'],
  },

  // docker, compose, buildkit, podman, kubectl, helm: DOCKER_HOST / CONTAINER_HOST
  // pick the daemon your builds and registry logins go to, DOCKER_CONFIG its
  // credential helpers (commands), KUBECONFIG can hold an exec credential plugin.
  {
    reader: 'docker, podman, kubectl and helm', risk: 'it picks the daemon or cluster your credentials go to, or a command they run',
    names: ['KUBECONFIG', 'CONTAINER_HOST'], prefixes: ['DOCKER_', 'BUILDKIT_', 'BUILDX_', 'COMPOSE_', 'CONTAINERS_', 'KUBECTL_', 'HELM_'],
  },

  // Cloud CLIs: AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE can name a
  // credential_process (a command); AWS_ENDPOINT_URL* send signed requests, with
  // the session token, elsewhere; gcloud, azure and terraform the same way.
  {
    reader: 'the cloud CLIs', risk: 'it names config that runs commands, or the endpoint your credentials go to',
    names: ['AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_CA_BUNDLE', 'AWS_DATA_PATH', 'GOOGLE_APPLICATION_CREDENTIALS',
      'AZURE_CONFIG_DIR', 'TF_CLI_CONFIG_FILE', 'TERRAFORM_CONFIG', 'TF_PLUGIN_CACHE_DIR', 'TF_DATA_DIR'],
    prefixes: ['AWS_ENDPOINT_URL', 'CLOUDSDK_', 'TF_CLI_ARGS'],
  },

  // Identity that gets published: git, debchange, mail and news put these in
  // commits, changelogs and headers that others read.
  { reader: 'git, mail and packaging tools', risk: 'they publish it in commits, changelogs and headers', names: ['EMAIL', 'DEBEMAIL', 'DEBFULLNAME', 'REPLYTO', 'ORGANIZATION'] },
];

/** The rule of `f` that `name` falls under, as shown in a message (`PERL*`, `*_PROXY`, `TZ`), or null. */
export function matchFamily(f: VariableFamily, name: string): string | null {
  const n = f.anyCase ? name.toUpperCase() : name;
  const up = (s: string) => (f.anyCase ? s.toUpperCase() : s);
  for (const x of [...(f.hard ?? []), ...(f.names ?? [])]) if (n === up(x)) return x;
  for (const p of [...(f.hardPrefixes ?? []), ...(f.prefixes ?? [])]) if (n.startsWith(up(p))) return `${p}*`;
  for (const s of f.suffixes ?? []) if (n.endsWith(up(s))) return `*${s}`;
  for (const re of f.patterns ?? []) if (re.test(name)) return name;
  return null;
}
