// SPDX-License-Identifier: MIT
#pragma once

#include <optional>

#include <QStringView>

namespace Patchwork
{

// Parses a duration the way PROTOCOL §15 accepts it and returns milliseconds.
//  - Go's time.ParseDuration syntax: an optional sign, then one or more decimal numbers each with a
//    unit (`ns`, `us`, `µs`, `μs`, `ms`, `s`, `m`, `h`): `300ms`, `1.5h`, `2h45m`, `-1m30s`; `0` alone.
//  - Bare seconds: `2`, `0.5`, `.5`.
// Surrounding whitespace is ignored. Sub-millisecond remainders are rounded to the nearest millisecond
// (half up). Returns std::nullopt for anything else, including values beyond Go's range (about 292
// years). Negative values are returned as such; callers decide whether they make sense.
std::optional<qint64> parseDurationMs(QStringView text);

// Parses a byte size: a decimal number with an optional unit, case-insensitive, optionally separated
// by spaces: `B`; binary `KiB`, `MiB`, `GiB`, `TiB` (also `K`, `M`, `G`, `T`); decimal `KB`, `MB`,
// `GB`, `TB`. A fraction needs a unit larger than a byte (`1.5MiB`; the result is rounded down).
// Returns std::nullopt for negative, malformed or overflowing values.
std::optional<qint64> parseSize(QStringView text);

} // namespace Patchwork
