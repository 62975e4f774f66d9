// SPDX-License-Identifier: MIT
#pragma once

#include <QStringList>
#include <QTest>
#include <QWidget>

// Walks the focus chain of `top` (a window) once around and fails the current test on the first visible
// control reachable with Tab that has no accessible name, naming it by object name and class. A widget
// that hands its focus to a proxy (the line edit inside a spin box) is skipped: the proxy is checked.
inline void verifyFocusChainNamed(QWidget *top)
{
    QVERIFY(top);
    int checked = 0;
    for (QWidget *w = top->nextInFocusChain(); w && w != top; w = w->nextInFocusChain()) {
        if (!top->isAncestorOf(w) || !w->isVisibleTo(top) || !(w->focusPolicy() & Qt::TabFocus) || w->focusProxy()) {
            continue;
        }
        const QByteArray culprit = "no accessible name: " + w->objectName().toUtf8() + " ("
                                   + w->metaObject()->className() + ") in " + top->objectName().toUtf8();
        QVERIFY2(!w->accessibleName().trimmed().isEmpty(), culprit.constData());
        ++checked;
    }
    const QByteArray none = "no control reachable with Tab in " + top->objectName().toUtf8();
    QVERIFY2(checked > 0, none.constData());
}

// The object names of the controls verifyFocusChainNamed() checks, in focus chain (Tab) order.
inline QStringList focusChainOrder(QWidget *top)
{
    QStringList names;
    for (QWidget *w = top->nextInFocusChain(); w && w != top; w = w->nextInFocusChain()) {
        if (top->isAncestorOf(w) && w->isVisibleTo(top) && (w->focusPolicy() & Qt::TabFocus) && !w->focusProxy()) {
            names.append(w->objectName());
        }
    }
    return names;
}
