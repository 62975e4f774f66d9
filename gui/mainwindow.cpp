// SPDX-License-Identifier: MIT
#include "gui/mainwindow.h"

#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QVBoxLayout>

namespace Patchwork::Gui
{

MainWindow::MainWindow(QMenu *menu, QWidget *parent)
    : QMainWindow(parent)
    , m_statusLabel(new QLabel(this))
    , m_panels(new QVBoxLayout)
{
    setObjectName(QStringLiteral("mainWindow"));
    setWindowTitle(tr("Patchwork"));
    setWindowIcon(QIcon(QStringLiteral(":/tray/relay.svg")));
    menuBar()->addMenu(menu);
    m_statusLabel->setObjectName(QStringLiteral("statusLabel"));
    m_statusLabel->setAccessibleName(tr("Status"));
    auto *central = new QWidget(this);
    auto *layout = new QVBoxLayout(central);
    layout->addWidget(m_statusLabel);
    layout->addLayout(m_panels, 1);
    setCentralWidget(central);
}

void MainWindow::setStatusText(const QString &text)
{
    m_statusLabel->setText(text);
}

QString MainWindow::statusText() const
{
    return m_statusLabel->text();
}

void MainWindow::addPanel(QWidget *panel)
{
    m_panels->addWidget(panel);
}

} // namespace Patchwork::Gui
