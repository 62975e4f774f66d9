#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# patchwork: a command-line client for a Patchwork relay (infinite HTTP channels).
# Needs only bash and curl. Install: curl -fsSL "$PATCHWORK_URL/patchwork.sh" -o ~/bin/patchwork
#
# Secrets stay out of the process list: the URL (which may carry a hook secret) and the
# Authorization header go to curl through a config file on a pipe (-K <(...)), never as arguments.

set -euo pipefail

readonly PW_VERSION=1
readonly PW_COMMANDS="send publish receive send-file receive-file subscribe request respond notify hook help"

# Exit codes.
readonly PW_EXIT_ERROR=1 # an HTTP error, a failed connection, or a failed command
readonly PW_EXIT_USAGE=2 # bad arguments
readonly PW_EXIT_TIMEOUT=3 # nothing arrived within --timeout (HTTP 204 or 504)

pw_usage() {
    cat <<'EOF'
Usage: patchwork COMMAND [OPTIONS] ARGS...

Commands:
  send CHANNEL [MESSAGE|-]      queue a message (stdin if MESSAGE is - or missing); returns when a
                                receiver took it
  publish CHANNEL [MESSAGE|-]   publish to every current subscriber (pubsub); prints nothing
  receive CHANNEL               wait for one message and print it
  send-file CHANNEL FILE|-      send a file of any size through the queue CHANNEL; returns when a
                                receiver took all of it (a progress bar on a terminal)
  receive-file CHANNEL FILE|-   wait for a file on CHANNEL and save it as FILE (- = stdout); FILE
                                appears only once it arrived whole
  subscribe CHANNEL [[--] CMD [ARGS...]]
                                print every message published on CHANNEL, forever, resuming with
                                since=<last Patch-Id> so nothing is lost between polls; with CMD, run
                                it once per message with the message on stdin
  request PATH [BODY|-]         send a request to a responder of PATH and print its reply
                                (GET without BODY, POST with BODY; -X to choose)
  respond PATH [--] CMD [ARGS...]
                                answer requests on PATH (and below it) forever: CMD gets each request
                                on stdin, its stdout is the reply (status 200, or 500 if CMD fails)
  notify [OPTIONS] [MESSAGE|-]  send a notification through your user namespace's ntfy backend
  hook [--reverse]              create a hook channel: prints {"channel":"...","secret":"..."}
  help [COMMAND]                show this help

Options:
  -n, --ns NS          namespace: public (default), h, r, or u/USER
  -s, --secret S       hook secret for h/r namespaces (or $PATCHWORK_SECRET)
  -T, --timeout S      give up after S seconds (server-side ?timeout=; exit status 3)
  -t, --type TYPE      Content-Type of what is sent (default text/plain)
  -H, --header 'N: V'  pass a header to the receiver (sent as Patch-H-N); repeatable
  -X, --method M       request: the HTTP method (default GET, or POST with a BODY)
      --since WHEN     subscribe: start from the replay buffer: all, an id, Unix seconds, or 10m/2h/1d
      --once           respond: answer one request, then exit
      --title T        notify: title
      --format F       notify: plain (default), markdown or html
      --priority N     notify: 1-5 (default 3)
      --tags A,B       notify: tags
      --click URL      notify: link to open
      --reverse        hook: create a reverse hook (/r: reading needs the secret)
  -h, --help           show this help

Environment:
  PATCHWORK_URL     the server (default http://localhost:8080)
  PATCHWORK_TOKEN   token for user namespaces, sent as "Authorization: Bearer" (never on a command line)
  PATCHWORK_NS      default namespace (default public; u/alice for a user namespace)
  PATCHWORK_USER    user for notify (default: taken from PATCHWORK_NS=u/USER)
  PATCHWORK_SECRET  default hook secret

CMD environment (subscribe, respond): PATCH_ID, PATCH_TIME, PATCH_METHOD, PATCH_URI, PATCH_REQUEST_ID,
PATCH_CONTENT_TYPE, as far as the message has them.

Exit status: 0 success, 1 error, 2 usage error, 3 timeout.

Examples:
  patchwork send jobs "process file.txt"         patchwork receive jobs
  echo deployed | patchwork publish events -     patchwork subscribe events -- logger -t events
  patchwork respond api/time date                patchwork request api/time
  patchwork send-file files backup.tar           patchwork receive-file files backup.tar
  PATCHWORK_NS=u/alice PATCHWORK_TOKEN=... patchwork notify --title Backup "done"
EOF
}

pw_die() {
    printf 'patchwork: %s\n' "$*" >&2
    exit "$PW_EXIT_ERROR"
}

pw_usage_error() {
    printf 'patchwork: %s (see patchwork help)\n' "$*" >&2
    exit "$PW_EXIT_USAGE"
}

# Percent-encodes $1 byte by byte, keeping RFC 3986 unreserved characters and those in $2.
pw_urlencode() {
    local LC_ALL=C
    local s=$1 keep=${2-} out='' c i
    for ((i = 0; i < ${#s}; i++)); do
        c=${s:i:1}
        case $c in
        [a-zA-Z0-9._~-]) out+=$c ;;
        *)
            if [[ -n $keep && $keep == *"$c"* ]]; then
                out+=$c
            else
                printf -v c '%%%02X' "'$c"
                out+=$c
            fi
            ;;
        esac
    done
    printf '%s' "$out"
}

# A value in double quotes for a curl config file.
pw_config_quote() {
    local v=$1
    v=${v//\\/\\\\}
    v=${v//\"/\\\"}
    printf '"%s"' "$v"
}

# The curl config for one request: URL and credentials, kept off the command line.
pw_config() {
    printf 'url = %s\n' "$(pw_config_quote "$1")"
    if [[ -n ${PATCHWORK_TOKEN:-} ]]; then
        printf 'header = %s\n' "$(pw_config_quote "Authorization: Bearer $PATCHWORK_TOKEN")"
    fi
}

# pw_http URL [CURL-ARGS...]: runs curl with the response body in $pw_tmp/body (or $pw_output) and
# headers in $pw_tmp/headers; sets pw_status (000 if no response) and pw_curl_error. With
# pw_progress set and stderr a terminal, curl shows its progress bar (and its own errors).
pw_http() {
    local url=$1 output=${pw_output:-$pw_tmp/body} meter=(--silent) errors=$pw_tmp/stderr
    shift
    pw_curl_error=''
    : >"$pw_tmp/headers"
    : >"$pw_tmp/body"
    if [[ -n ${pw_progress:-} && -t 2 ]]; then
        meter=(--progress-bar) errors=/dev/stderr
    fi
    local rc=0
    pw_status=$(curl "${meter[@]}" --show-error --globoff --connect-timeout 10 \
        --dump-header "$pw_tmp/headers" --output "$output" --write-out '%{http_code}' \
        --config <(pw_config "$url") "$@" 2>"$errors") || rc=$?
    if ((rc != 0)); then
        pw_curl_error=$(<"$pw_tmp/stderr")
        pw_curl_error=${pw_curl_error#curl: }
        pw_curl_error=${pw_curl_error:-curl exit status $rc}
        [[ -n $pw_status ]] || pw_status=000
    fi
}

# Prints the value of response header $1 (case-insensitive) of the last response, if any.
pw_header() {
    local want=$1 line name value found='' restore
    restore=$(shopt -p nocasematch || true)
    shopt -s nocasematch
    while IFS= read -r line || [[ -n $line ]]; do
        line=${line%$'\r'}
        if [[ $line == HTTP/* ]]; then
            found='' # a new response (after 100 Continue or a redirect)
            continue
        fi
        [[ $line == *:* ]] || continue
        name=${line%%:*}
        if [[ $name == "$want" ]]; then
            value=${line#*:}
            value=${value#"${value%%[![:space:]]*}"}
            found=$value
        fi
    done <"$pw_tmp/headers"
    eval "$restore"
    printf '%s' "$found"
}

# Reports a failed exchange and exits: a timeout, a connection error, or an HTTP error.
pw_fail_response() {
    if [[ $pw_status == 000 ]]; then
        pw_die "${pw_curl_error:-no response from $PATCHWORK_URL}"
    fi
    local message
    message=$(<"$pw_tmp/body")
    if [[ $pw_status == 204 || ($pw_status == 504 && $message == *"within timeout"*) ]]; then
        printf 'patchwork: timeout: %s\n' "${message:-nothing arrived}" >&2
        exit "$PW_EXIT_TIMEOUT"
    fi
    printf 'patchwork: HTTP %s: %s\n' "$pw_status" "${message:-(no body)}" >&2
    exit "$PW_EXIT_ERROR"
}

# Sets pw_u to the URL of <namespace>/<path> with the query parameters given as name=value
# (values are encoded here).
pw_url() {
    local path=$1 query='' pair sep='?'
    shift
    path=${path#/}
    [[ -n $path && $path != */ ]] || pw_usage_error "the channel or path must not be empty"
    for pair in "$@"; do
        query+="$sep${pair%%=*}=$(pw_urlencode "${pair#*=}")"
        sep='&'
    done
    pw_u="$PATCHWORK_URL/$(pw_urlencode "$pw_ns" /)/$(pw_urlencode "$path" /)$query"
}

# Query parameters every channel request carries: the hook secret and the timeout.
pw_common_query() {
    pw_query=()
    if [[ -n $pw_secret ]]; then
        pw_query+=("secret=$pw_secret")
    fi
    if [[ -n $pw_timeout ]]; then
        pw_query+=("timeout=$pw_timeout")
    fi
}

# curl arguments for the body of a message: from $1 (a string) or stdin when $1 is - or absent.
pw_body_args() {
    pw_body=(--data-binary @- -H "Content-Type: $pw_type")
    local header
    for header in "${pw_headers[@]+"${pw_headers[@]}"}"; do
        pw_body+=(-H "Patch-H-$header")
    done
}

# Sends the message $1 (or stdin when $1 is - or absent) to $pw_u, with curl arguments $2...
pw_produce() {
    local message=-
    if (($# > 0)); then
        message=$1
        shift
    fi
    pw_body_args
    if [[ $message == - ]]; then
        pw_http "$pw_u" "${pw_body[@]}" "$@"
    else
        pw_http "$pw_u" "${pw_body[@]}" "$@" < <(printf '%s' "$message")
    fi
}

# Prints the body of the last response; adds a newline if it lacks one and $1 is "line".
pw_print_body() {
    cat "$pw_tmp/body"
    if [[ ${1-} == line && -s $pw_tmp/body && $(tail -c 1 "$pw_tmp/body" | wc -l) -eq 0 ]]; then
        printf '\n'
    fi
}

pw_cmd_send() {
    (($# >= 1 && $# <= 2)) || pw_usage_error "usage: patchwork send CHANNEL [MESSAGE|-]"
    pw_common_query
    pw_url "$1" "${pw_query[@]+"${pw_query[@]}"}"
    pw_produce "${2:--}"
    [[ $pw_status == 200 ]] || pw_fail_response
}

pw_cmd_publish() {
    (($# >= 1 && $# <= 2)) || pw_usage_error "usage: patchwork publish CHANNEL [MESSAGE|-]"
    pw_common_query
    pw_url "$1" pubsub=true "${pw_query[@]+"${pw_query[@]}"}"
    pw_produce "${2:--}"
    [[ $pw_status == 200 ]] || pw_fail_response
}

pw_cmd_receive() {
    (($# == 1)) || pw_usage_error "usage: patchwork receive CHANNEL"
    pw_common_query
    pw_url "$1" "${pw_query[@]+"${pw_query[@]}"}"
    pw_http "$pw_u"
    [[ $pw_status == 200 ]] || pw_fail_response
    pw_print_body
}

# Bodies above the server's --max-body are streamed from sender to receiver: any size, constant memory.
pw_cmd_send_file() {
    (($# == 2)) || pw_usage_error "usage: patchwork send-file CHANNEL FILE|-"
    [[ $2 == - || -r $2 ]] || pw_die "cannot read '$2'"
    pw_common_query
    pw_url "$1" "${pw_query[@]+"${pw_query[@]}"}"
    # --upload-file sends a file with its Content-Length (stdin chunked) without reading it into memory.
    pw_progress=1 pw_http "$pw_u" -X POST --upload-file "$2" -H "Content-Type: $pw_type"
    [[ $pw_status == 200 ]] || pw_fail_response
}

pw_cmd_receive_file() {
    (($# == 2)) || pw_usage_error "usage: patchwork receive-file CHANNEL FILE|-"
    local file=$2 part
    pw_common_query
    pw_url "$1" "${pw_query[@]+"${pw_query[@]}"}"
    if [[ $file == - ]]; then
        pw_output=/dev/stdout pw_progress=1 pw_http "$pw_u"
        [[ $pw_status == 200 && -z $pw_curl_error ]] || pw_fail_response
        return
    fi
    part="$file.part"
    pw_output=$part pw_progress=1 pw_http "$pw_u"
    if [[ $pw_status == 200 && -z $pw_curl_error ]]; then
        mv -f -- "$part" "$file"
        return
    fi
    # An error answer is a line of text; a cut transfer leaves no FILE.
    [[ $pw_status == 200 ]] || head -c 1000 -- "$part" >"$pw_tmp/body"
    rm -f -- "$part"
    [[ $pw_status != 200 ]] || pw_die "the transfer was cut: ${pw_curl_error:-incomplete}"
    pw_fail_response
}

# Exports the message's metadata for a CMD.
pw_export_message_env() {
    PATCH_ID=$(pw_header Patch-Id)
    PATCH_TIME=$(pw_header Patch-Time)
    PATCH_METHOD=$(pw_header Patch-Method)
    PATCH_URI=$(pw_header Patch-Uri)
    PATCH_REQUEST_ID=$(pw_header Patch-Request-Id)
    PATCH_CONTENT_TYPE=$(pw_header Content-Type)
    export PATCH_ID PATCH_TIME PATCH_METHOD PATCH_URI PATCH_REQUEST_ID PATCH_CONTENT_TYPE
}

# Runs the user's command: one argument is a shell command line, several are argv.
pw_run_cmd() {
    if (($# == 1)); then
        bash -c "$1"
    else
        "$@"
    fi
}

# Waits before retrying after a failure: 1, 2, 4 ... 30 s, or the server's Retry-After.
pw_backoff() {
    local retry_after
    retry_after=$(pw_header Retry-After)
    if [[ $retry_after =~ ^[0-9]+$ ]]; then
        sleep "$retry_after"
    else
        sleep "$pw_delay"
    fi
    pw_delay=$((pw_delay * 2 > 30 ? 30 : pw_delay * 2))
}

# Decides what to do after a failed poll of a loop: retry (return) or give up (exit).
pw_loop_failure() {
    case $pw_status in
    000 | 429 | 5??)
        if [[ $pw_status == 000 ]]; then
            printf 'patchwork: %s; retrying\n' "${pw_curl_error:-no response}" >&2
        else
            printf 'patchwork: HTTP %s: %s; retrying\n' "$pw_status" "$(<"$pw_tmp/body")" >&2
        fi
        pw_backoff
        ;;
    *) pw_fail_response ;;
    esac
}

pw_cmd_subscribe() {
    (($# >= 1)) || pw_usage_error "usage: patchwork subscribe CHANNEL [[--] CMD [ARGS...]]"
    local channel=$1 since=$pw_since id
    shift
    if (($# > 0)) && [[ $1 == -- ]]; then
        shift
    fi
    pw_delay=1
    while :; do
        # Long polls of at most 60 s keep proxies happy; the replay buffer covers the gaps.
        local query=("timeout=${pw_timeout:-60}")
        [[ -n $pw_secret ]] && query+=("secret=$pw_secret")
        [[ -n $since ]] && query+=("since=$since")
        pw_url "$channel" "${query[@]}"
        pw_http "$pw_u"
        case $pw_status in
        200) ;;
        204) continue ;;
        *)
            pw_loop_failure
            continue
            ;;
        esac
        pw_delay=1
        if [[ $(pw_header Patch-Gap) == true ]]; then
            printf 'patchwork: some messages on %s may have been missed (replay gap)\n' "$channel" >&2
        fi
        id=$(pw_header Patch-Id)
        [[ -n $id ]] && since=$id
        if (($# > 0)); then
            (
                pw_export_message_env
                pw_run_cmd "$@" <"$pw_tmp/body"
            ) || printf 'patchwork: command failed with status %s\n' "$?" >&2
        else
            pw_print_body line
        fi
    done
}

pw_cmd_request() {
    (($# >= 1 && $# <= 2)) || pw_usage_error "usage: patchwork request PATH [BODY|-]"
    local method=$pw_method
    if [[ -z $method ]]; then
        method=GET
        (($# == 1)) || method=POST
    fi
    pw_common_query
    pw_url "req/$1" "${pw_query[@]+"${pw_query[@]}"}"
    if (($# == 2)); then
        pw_produce "$2" -X "$method"
    else
        local args=(-X "$method")
        local header
        for header in "${pw_headers[@]+"${pw_headers[@]}"}"; do
            args+=(-H "Patch-H-$header")
        done
        pw_http "$pw_u" "${args[@]}"
    fi
    if [[ $pw_status == 2?? ]]; then
        pw_print_body
        return 0
    fi
    if [[ $pw_status == 000 || $pw_status == 504 ]]; then
        pw_fail_response
    fi
    # The responder's own error status: its body is the answer, the status says it failed.
    pw_print_body >&2
    exit "$PW_EXIT_ERROR"
}

pw_cmd_respond() {
    (($# >= 2)) || pw_usage_error "usage: patchwork respond PATH [--] CMD [ARGS...]"
    local path=$1 request_id status
    shift
    if [[ $1 == -- ]]; then
        shift
    fi
    (($# >= 1)) || pw_usage_error "usage: patchwork respond PATH [--] CMD [ARGS...]"
    pw_delay=1
    while :; do
        local query=("timeout=${pw_timeout:-60}")
        [[ -n $pw_secret ]] && query+=("secret=$pw_secret")
        pw_url "res/$path" "${query[@]}"
        pw_http "$pw_u"
        case $pw_status in
        200) ;;
        204) continue ;;
        *)
            pw_loop_failure
            continue
            ;;
        esac
        pw_delay=1
        request_id=$(pw_header Patch-Request-Id)
        [[ -n $request_id ]] || pw_die "the server sent a request without Patch-Request-Id"
        status=200
        (
            pw_export_message_env
            pw_run_cmd "$@" <"$pw_tmp/body" >"$pw_tmp/reply"
        ) || status=500
        local reply_query=("reply=$request_id")
        [[ -n $pw_secret ]] && reply_query+=("secret=$pw_secret")
        local args=(--data-binary "@$pw_tmp/reply" -H "Content-Type: $pw_type" -H "Patch-Status: $status")
        local header
        for header in "${pw_headers[@]+"${pw_headers[@]}"}"; do
            args+=(-H "Patch-H-$header")
        done
        pw_url "res/$path" "${reply_query[@]}"
        pw_http "$pw_u" "${args[@]}"
        if [[ $pw_status != 200 ]]; then
            printf 'patchwork: reply to %s not delivered: HTTP %s %s\n' "$request_id" "$pw_status" \
                "$(<"$pw_tmp/body")" >&2
        fi
        [[ -z $pw_once ]] || return 0
    done
}

pw_cmd_notify() {
    (($# <= 1)) || pw_usage_error "usage: patchwork notify [--title T] [MESSAGE|-]"
    local user=${PATCHWORK_USER:-}
    if [[ -z $user && $pw_ns == u/* ]]; then
        user=${pw_ns#u/}
        user=${user%%/*}
    fi
    [[ -n $user ]] || pw_usage_error "notify needs PATCHWORK_USER (or PATCHWORK_NS=u/USER)"
    local args=(--data-urlencode message@-)
    [[ -n $pw_title ]] && args+=(--data-urlencode "title=$pw_title")
    [[ -n $pw_format ]] && args+=(--data-urlencode "type=$pw_format")
    [[ -n $pw_priority ]] && args+=(--data-urlencode "priority=$pw_priority")
    [[ -n $pw_tags ]] && args+=(--data-urlencode "tags=$pw_tags")
    [[ -n $pw_click ]] && args+=(--data-urlencode "click=$pw_click")
    local url
    url="$PATCHWORK_URL/u/$(pw_urlencode "$user")/_/ntfy"
    if (($# == 1)) && [[ $1 != - ]]; then
        pw_http "$url" "${args[@]}" < <(printf '%s' "$1")
    else
        pw_http "$url" "${args[@]}"
    fi
    [[ $pw_status == 200 ]] || pw_fail_response
}

pw_cmd_hook() {
    (($# == 0)) || pw_usage_error "usage: patchwork hook [--reverse]"
    local kind=h
    [[ -z $pw_reverse ]] || kind=r
    pw_http "$PATCHWORK_URL/$kind"
    [[ $pw_status == 200 ]] || pw_fail_response
    pw_print_body line
}

pw_main() {
    PATCHWORK_URL=${PATCHWORK_URL:-http://localhost:8080}
    PATCHWORK_URL=${PATCHWORK_URL%/}
    if [[ ${PATCHWORK_TOKEN:-} == *[$'\r\n']* ]]; then
        pw_die "PATCHWORK_TOKEN must not contain line breaks"
    fi
    command -v curl >/dev/null || pw_die "curl is required"

    local command=''
    # Busybox style: a link named after a command runs that command.
    local self=${0##*/}
    if [[ " $PW_COMMANDS " == *" $self "* ]]; then
        command=$self
    elif (($# > 0)); then
        command=$1
        shift
    fi
    case $command in
    '' | help | -h | --help)
        pw_usage
        return 0
        ;;
    --version)
        printf 'patchwork client %s\n' "$PW_VERSION"
        return 0
        ;;
    esac
    [[ " $PW_COMMANDS " == *" $command "* ]] || pw_usage_error "unknown command '$command'"

    pw_ns=${PATCHWORK_NS:-public}
    pw_secret=${PATCHWORK_SECRET:-}
    pw_timeout='' pw_type='text/plain' pw_method='' pw_since='' pw_once='' pw_reverse=''
    pw_title='' pw_format='' pw_priority='' pw_tags='' pw_click=''
    pw_headers=()
    local args=() takes_command=''
    [[ $command == subscribe || $command == respond ]] && takes_command=1
    while (($# > 0)); do
        # After the channel, subscribe and respond take a command whose options are its own.
        if [[ -n $takes_command && ${#args[@]} -ge 1 && ($1 == -- || $1 != -*) ]]; then
            args+=("$@")
            break
        fi
        case $1 in
        -h | --help)
            pw_usage
            return 0
            ;;
        -n | --ns | -s | --secret | -T | --timeout | -t | --type | -H | --header | -X | --method | --since | \
            --title | --format | --priority | --tags | --click)
            (($# >= 2)) || pw_usage_error "option $1 needs a value"
            case $1 in
            -n | --ns) pw_ns=${2#/} pw_ns=${pw_ns%/} ;;
            -s | --secret) pw_secret=$2 ;;
            -T | --timeout) pw_timeout=$2 ;;
            -t | --type) pw_type=$2 ;;
            -H | --header)
                [[ $2 == *:* ]] || pw_usage_error "a header looks like 'Name: value'"
                pw_headers+=("$2")
                ;;
            -X | --method) pw_method=$2 ;;
            --since) pw_since=$2 ;;
            --title) pw_title=$2 ;;
            --format) pw_format=$2 ;;
            --priority) pw_priority=$2 ;;
            --tags) pw_tags=$2 ;;
            --click) pw_click=$2 ;;
            esac
            shift 2
            ;;
        --once)
            pw_once=1
            shift
            ;;
        --reverse)
            pw_reverse=1
            shift
            ;;
        --)
            shift
            args+=("$@")
            break
            ;;
        -?*) pw_usage_error "unknown option '$1'" ;;
        *)
            args+=("$1")
            shift
            ;;
        esac
    done
    [[ -z $pw_timeout || $pw_timeout =~ ^[0-9]+(\.[0-9]+)?$ ]] || pw_usage_error "--timeout takes seconds"

    pw_tmp=$(mktemp -d "${TMPDIR:-/tmp}/patchwork.XXXXXX")
    trap 'rm -rf "$pw_tmp"' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM

    "pw_cmd_${command//-/_}" "${args[@]+"${args[@]}"}"
}

pw_main "$@"
