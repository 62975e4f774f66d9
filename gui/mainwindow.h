// SPDX-License-Identifier: MIT
#pragma once

#include <QMainWindow>

class QLabel;
class QMenu;
class QVBoxLayout;

namespace Patchwork::Gui
{

// The window shown instead of the tray icon when the desktop has no system tray: the tray menu as its
// menu bar, the status line, and the panels (the local relay).
class MainWindow final : public QMainWindow
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MainWindow)

public:
    // `menu` (not owned) becomes the menu bar's "Patchwork" menu.
    explicit MainWindow(QMenu *menu, QWidget *parent = nullptr);

    void setStatusText(const QString &text);
    QString statusText() const;
    // Adds a panel below the status line (the window takes ownership).
    void addPanel(QWidget *panel);

private:
    QLabel *m_statusLabel;
    QVBoxLayout *m_panels;
};

} // namespace Patchwork::Gui
