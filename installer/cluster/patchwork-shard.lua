-- SPDX-License-Identifier: MIT
-- The shard key of a Patchwork request, computed in HAProxy (Lua 5.3): the same key as the daemon's
-- shardKey() (shared/access/shardkey.cpp), from the same normalised path (RFC 3986 dot segments removed
-- on the raw path, then percent-decoded exactly as the daemon decodes, `/p/` = `public`):
--   queue, pubsub, flexible and SSE channels        -> <ns>/<channel path>
--   req/<id> and res/<id> (replies, prefix ids)      -> <ns>/rr/<first segment of the id>
--   /u/<user>/_/... (notify, admin), /huproxy/<user>/ -> u/<user>
--   everything else                                   -> any node
-- The action `patchwork_shard` sets txn.patchwork_shard to the Patch-Shard header value: the key
-- percent-encoded (all but ALPHA, DIGIT, "-._~/", upper-case hex), or "*" for any node.
--
-- haproxy.cfg:  lua-load /etc/haproxy/patchwork-shard.lua
--               http-request lua.patchwork_shard
-- Standalone:   local shard = dofile("patchwork-shard.lua"); shard.header_value(shard.key("/p/x"))

local function starts(s, prefix)
    return s:sub(1, #prefix) == prefix
end

-- Drops the last segment of `out` (and its '/').
local function drop_last_segment(out)
    local slash = out:match(".*()/")
    return slash and out:sub(1, slash - 1) or ""
end

-- RFC 3986 section 5.2.4 on the raw (still percent-encoded) path.
local function remove_dot_segments(input)
    if input:sub(1, 1) ~= "." and not input:find("/.", 1, true) then
        return input
    end
    local out = ""
    local i, n = 1, #input
    while i <= n do
        local rest = input:sub(i)
        if starts(rest, "../") then
            i = i + 3
        elseif starts(rest, "./") or starts(rest, "/./") then
            i = i + 2
        elseif rest == "/." then
            out = out .. "/"
            break
        elseif starts(rest, "/../") then
            i = i + 3
            out = drop_last_segment(out)
        elseif rest == "/.." then
            out = drop_last_segment(out) .. "/"
            break
        elseif rest == "." or rest == ".." then
            break
        else
            local nxt = input:find("/", i + (rest:sub(1, 1) == "/" and 1 or 0), true) or n + 1
            out = out .. input:sub(i, nxt - 1)
            i = nxt
        end
    end
    return out
end

-- A hex digit's value; any other byte keeps its own value (the daemon's decoder does the same).
local function hex_value(c)
    if c >= 48 and c <= 57 then
        return c - 48
    elseif c >= 97 and c <= 102 then
        return c - 87
    elseif c >= 65 and c <= 70 then
        return c - 55
    end
    return c
end

-- '%' followed by two more bytes is one byte; a '%' near the end stays as it is.
local function percent_decode(s)
    if not s:find("%", 1, true) then
        return s
    end
    local out = {}
    local i, n = 1, #s
    while i <= n do
        local c = s:byte(i)
        if c == 37 and i + 2 <= n then
            out[#out + 1] = string.char(((hex_value(s:byte(i + 1)) << 4) | hex_value(s:byte(i + 2))) & 0xFF)
            i = i + 3
        else
            out[#out + 1] = string.char(c)
            i = i + 1
        end
    end
    return table.concat(out)
end

-- [A-Za-z0-9][A-Za-z0-9._-]{0,63}
local function valid_user(user)
    return #user >= 1 and #user <= 64 and user:find("^[A-Za-z0-9][A-Za-z0-9._%-]*$") ~= nil
end

-- The key of channel path `p` in namespace `ns`; nil when every node refuses it alike.
local function channel_key(ns, p)
    if p == "" or starts(p, "_/") then
        return nil
    end
    if starts(p, "req/") or starts(p, "res/") then
        if #p == 4 then
            return nil
        end
        local id = p:sub(5)
        local slash = id:find("/", 1, true)
        return ns .. "/rr/" .. (slash and id:sub(1, slash - 1) or id)
    end
    return ns .. "/" .. p
end

-- The shard key of a raw request path (no query), or nil for any node.
local function key(raw_path)
    local path = percent_decode(remove_dot_segments(raw_path))
    if path:find("[\0-\31\127]") then
        return nil
    end
    if starts(path, "/public/") then
        return channel_key("public", path:sub(9))
    elseif starts(path, "/p/") then
        return channel_key("public", path:sub(4))
    elseif starts(path, "/h/") or starts(path, "/r/") then
        return channel_key(path:sub(2, 2), path:sub(4))
    elseif starts(path, "/u/") then
        local slash = path:find("/", 4, true)
        if not slash then
            return nil
        end
        local user = path:sub(4, slash - 1)
        if not valid_user(user) then
            return nil
        end
        local rest = path:sub(slash + 1)
        if starts(rest, "_/") then
            return "u/" .. user
        end
        return channel_key("u/" .. user, rest)
    elseif starts(path, "/huproxy/") then
        local rest = path:sub(10)
        local slash = rest:find("/", 1, true)
        local user = slash and rest:sub(1, slash - 1) or ""
        return valid_user(user) and "u/" .. user or nil
    end
    return nil
end

local function header_value(k)
    if k == nil then
        return "*"
    end
    return (k:gsub("[^A-Za-z0-9%-%._~/]", function(c)
        return string.format("%%%02X", c:byte())
    end))
end

if core then
    core.register_action("patchwork_shard", {"http-req"}, function(txn)
        txn:set_var("txn.patchwork_shard", header_value(key(txn.sf:path() or "")))
    end)
end

return {key = key, header_value = header_value}
