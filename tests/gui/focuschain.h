// SPDX-License-Identifier: MIT
#pragma once

#include <QSet>
#include <QTest>
#include <QWidget>

// Walks the keyboard focus chain of `top` (shown) and fails on the first visible control that takes Tab
// focus (enabled or not) without an accessible name. A widget without a name that is its parent's focus
// proxy (the line edit inside a spin box) is named by that parent. The caller checks
// QTest::currentTestFailed() afterwards.
inline void verifyFocusChainNamed(QWidget *top)
{
    QVERIFY2(top->isVisible(), "show the widget before walking its focus chain");
    QSet<QWidget *> seen;
    int named = 0;
    for (QWidget *w = top; w && !seen.contains(w); w = w->nextInFocusChain()) {
        seen.insert(w);
        if (w != top && !top->isAncestorOf(w)) {
            continue;
        }
        if (!w->isVisible() || !(w->focusPolicy() & Qt::TabFocus)) {
            continue;
        }
        QString name = w->accessibleName();
        if (QWidget *parent = w->parentWidget(); name.isEmpty() && parent && parent->focusProxy() == w) {
            name = parent->accessibleName();
        }
        // Buttons and labels have no object name when a QDialogButtonBox made them: their text tells.
        const QByteArray culprit = w->metaObject()->className() + QByteArray(" \"") + w->objectName().toUtf8()
                                   + "\" (text \"" + w->property("text").toString().toUtf8()
                                   + "\") has no accessible name";
        QVERIFY2(!name.isEmpty(), culprit.constData());
        ++named;
    }
    QVERIFY2(named > 0, "no focusable control in the chain");
}
