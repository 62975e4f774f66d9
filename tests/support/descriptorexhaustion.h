// SPDX-License-Identifier: MIT
#pragma once

#include <vector>

#include <QtGlobal>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

namespace Patchwork::Test
{

// Runs the process out of file descriptors while it lives, as a connection flood does: lowers the
// soft RLIMIT_NOFILE to `limit` and opens /dev/null until that fails, keeping `spare` descriptors
// free. Restores both when destroyed (or at release()).
class DescriptorExhaustion
{
public:
    explicit DescriptorExhaustion(int spare = 0, rlim_t limit = 256)
    {
        if (::getrlimit(RLIMIT_NOFILE, &m_saved) != 0) {
            return;
        }
        rlimit lowered = m_saved;
        lowered.rlim_cur = qMin(limit, m_saved.rlim_cur);
        m_lowered = ::setrlimit(RLIMIT_NOFILE, &lowered) == 0;
        for (;;) {
            const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                break;
            }
            m_fds.push_back(fd);
        }
        for (int i = 0; i < spare && !m_fds.empty(); ++i) {
            ::close(m_fds.back());
            m_fds.pop_back();
        }
    }
    ~DescriptorExhaustion()
    {
        release();
    }
    DescriptorExhaustion(const DescriptorExhaustion &) = delete;
    DescriptorExhaustion &operator=(const DescriptorExhaustion &) = delete;

    // Whether the process is now out of descriptors (but for the spare ones).
    bool isActive() const
    {
        return m_lowered && !m_fds.empty();
    }
    void release()
    {
        for (int fd : m_fds) {
            ::close(fd);
        }
        m_fds.clear();
        if (m_lowered) {
            ::setrlimit(RLIMIT_NOFILE, &m_saved);
            m_lowered = false;
        }
    }

private:
    rlimit m_saved{};
    bool m_lowered = false;
    std::vector<int> m_fds;
};

} // namespace Patchwork::Test
