# SPDX-License-Identifier: MIT
# CTest translations_check: runs lupdate over the current sources into a copy of each .ts file (keeping
# obsolete entries) and fails when the copy has an unfinished, obsolete or vanished entry, or when lupdate
# warns (a tr() whose class it cannot resolve would land in a wrong context). So a new tr() string without a
# translation fails, and so does a removed or changed one still in the file. Fix: `cmake --build build
# --target update_translations`, translate (Qt Linguist or an editor), commit (docs/TRANSLATING.md).
#   cmake -DLUPDATE=… -DSOURCES_LIST=file -DINCLUDES=a;b -DFULL=x_de.ts -DPLURALS=x_en.ts -DWORK_DIR=… -P this
cmake_minimum_required(VERSION 3.25)

foreach(var LUPDATE SOURCES_LIST WORK_DIR)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "${var} is not set")
    endif()
endforeach()

set(include_args "")
foreach(dir IN LISTS INCLUDES)
    list(APPEND include_args "-I${dir}")
endforeach()

string(ASCII 1 mask_semicolon)
string(ASCII 2 mask_open)
string(ASCII 3 mask_close)

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(problems "")
foreach(kind FULL PLURALS)
    foreach(ts IN LISTS ${kind})
        get_filename_component(name "${ts}" NAME)
        set(copy "${WORK_DIR}/${name}")
        file(COPY_FILE "${ts}" "${copy}")
        set(extra "")
        if(kind STREQUAL "PLURALS")
            set(extra -pluralonly) # the source language's catalog holds only the plural forms
        endif()
        execute_process(COMMAND "${LUPDATE}" -locations none ${extra} ${include_args} "@${SOURCES_LIST}" -ts "${copy}"
            RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
        if(NOT result EQUAL 0)
            message(FATAL_ERROR "lupdate failed on ${name} (${result}):\n${out}${err}")
        endif()
        string(REGEX MATCHALL "[^\n]*:[0-9]+: [^\n]*" warnings "${out}${err}")
        foreach(warning IN LISTS warnings)
            string(APPEND problems "${name}: lupdate warns: ${warning}\n")
        endforeach()
        file(READ "${copy}" text)
        # One <message> at a time (as list items, so ; [ ] in the texts are masked): its source and whether
        # lupdate marked its translation.
        string(REPLACE ";" "${mask_semicolon}" text "${text}")
        string(REPLACE "[" "${mask_open}" text "${text}")
        string(REPLACE "]" "${mask_close}" text "${text}")
        string(REPLACE "</message>" "</message>;" messages "${text}")
        foreach(message IN LISTS messages)
            if(message MATCHES "type=\"(unfinished|obsolete|vanished)\"")
                set(marker "${CMAKE_MATCH_1}")
                string(REGEX MATCH "<source>([^<]*)</source>" source "${message}")
                string(APPEND problems "${name}: ${marker}: \"${CMAKE_MATCH_1}\"\n")
            endif()
        endforeach()
    endforeach()
endforeach()

if(problems)
    string(REPLACE "${mask_semicolon}" ";" problems "${problems}")
    string(REPLACE "${mask_open}" "[" problems "${problems}")
    string(REPLACE "${mask_close}" "]" problems "${problems}")
    message(FATAL_ERROR "The translations are not up to date or not complete:\n${problems}"
        "Run `cmake --build <build> --target update_translations`, translate, commit (docs/TRANSLATING.md).")
endif()
message(STATUS "translations complete and up to date: ${FULL} ${PLURALS}")
