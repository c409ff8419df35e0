# keyrack hook for fish. Install with, in ~/.config/fish/config.fish:
#   keyrack hook fish | source
# `keyrack hook fish` prints this file with the quoted '@…@' placeholders filled in.
#
# Before each prompt (fish_prompt) and on each cd (PWD changes) the hook decides in
# fish code, with builtins only, whether anything may have changed: the nearest
# .keyrack (path and content) and the generation token (bumped on unlock, lock,
# expiry, allow, deny). Only then does it start keyrack. A prompt where nothing
# changed starts no process at all.

set -g __keyrack_gen_file '@KEYRACK_GEN@'

function __keyrack_hook --on-event fish_prompt --on-variable PWD
    set -l __keyrack_rc $status
    set -l __keyrack_d $PWD
    set -l __keyrack_m ''
    set -l __keyrack_c ''
    set -l __keyrack_g ''
    # The walk of src/manifest.ts: a directory named .keyrack is passed over; anything
    # else there (a file, a symlink, a FIFO) stops it. Only a regular file is read, and
    # at most 64 KiB of it (keyrack refuses more): a link to /proc or a FIFO never is,
    # so it cannot stall or slow the prompt. "f"/"x" tells the two apart.
    while true
        # (-e and not -d) or -L, in fish's left-to-right order: no block to set up.
        if test -e "$__keyrack_d/.keyrack"; and not test -d "$__keyrack_d/.keyrack"; or test -L "$__keyrack_d/.keyrack"
            set __keyrack_m "$__keyrack_d/.keyrack"
            break
        end
        test -n "$__keyrack_d"; or break
        set __keyrack_d (string replace -r '/[^/]*$' '' -- "$__keyrack_d")
    end
    if test -n "$__keyrack_m"
        if test -f "$__keyrack_m"; and not test -L "$__keyrack_m"; and not test -r "$__keyrack_m"
            # Unreadable: fish would warn about the redirection at every prompt;
            # keyrack says so once, in its own words.
            set __keyrack_c u
        else if test -f "$__keyrack_m"; and not test -L "$__keyrack_m"
            begin
                # read --nchars reads byte by byte; the limit bounds read -z's buffered
                # reads instead. A larger file fails (status 122, nothing read): the
                # status goes into the stamp, so that differs from an empty file.
                set -l fish_read_limit 65536
                read -z __keyrack_c <"$__keyrack_m" 2>/dev/null
                set __keyrack_c "f$status$__keyrack_c"
            end
        else
            set __keyrack_c x
        end
    end
    if test -f "$__keyrack_gen_file"; and test -r "$__keyrack_gen_file"
        read __keyrack_g <"$__keyrack_gen_file" 2>/dev/null
    end
    # KEYRACK_STATE erased or edited by hand: what keyrack set is still in the shell,
    # so the copy the hook keeps (never exported) wins, and export runs now.
    if test -n "$__keyrack_state"; and test "$KEYRACK_STATE" != "$__keyrack_state"
        set -gx KEYRACK_STATE $__keyrack_state
        set -e __keyrack_last
    end
    set -l __keyrack_k "$__keyrack_m"\n"$__keyrack_c"\n"$__keyrack_g"
    if not set -q __keyrack_last; or test "$__keyrack_k" != "$__keyrack_last"
        set -g __keyrack_last "$__keyrack_k"
        # Outside any project with nothing loaded there is nothing to do.
        if test -n "$__keyrack_m"; or test -n "$KEYRACK_STATE"
            '@KEYRACK_FAST@' '@KEYRACK_NODE@' '@KEYRACK_SCRIPT@' export fish | source
            set -g __keyrack_state "$KEYRACK_STATE"
        end
    end
    return $__keyrack_rc
end

# Names and fingerprints of what keyrack set (never a value); exported so that a
# nested shell knows, and so that `keyrack doctor` can tell the hook is installed.
set -q KEYRACK_STATE; or set -gx KEYRACK_STATE ''
set -g __keyrack_state "$KEYRACK_STATE"
