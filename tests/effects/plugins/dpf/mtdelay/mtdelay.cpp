// mtdelay: out[n] = in[n - delay] exactly, latency = delay; `fault` misbehaves on purpose so
// hosts can test what they survive (1 NaN output, 2 segfault, 3 abort, 4 endless loop).
#include "DistrhoPlugin.hpp"

#include <cstdlib>
#include <limits>
#include <vector>

START_NAMESPACE_DISTRHO

static constexpr uint32_t kSize = 65536;  // a power of two above the longest delay
static constexpr uint32_t kMask = kSize - 1;

class MtDelay : public Plugin
{
public:
    MtDelay() : Plugin(2, 0, 0), fBuffer{std::vector<float>(kSize), std::vector<float>(kSize)}
    {
        setLatency(fDelay);
    }

protected:
    const char* getLabel() const override { return "mtdelay"; }
    const char* getDescription() const override { return "Sample-exact delay for mixtree's tests"; }
    const char* getMaker() const override { return "mixtree"; }
    const char* getLicense() const override { return "MIT"; }
    uint32_t getVersion() const override { return d_version(1, 0, 0); }
    int64_t getUniqueId() const override { return d_cconst('M', 't', 'D', 'l'); }

    void initParameter(uint32_t index, Parameter& p) override
    {
        p.hints = kParameterIsAutomatable | kParameterIsInteger;
        if (index == 0)
        {
            p.name = "Delay";
            p.symbol = "delay";
            p.unit = "samples";
            p.ranges.min = 0.0f;
            p.ranges.max = 48000.0f;
            p.ranges.def = 1234.0f;
        }
        else
        {
            p.name = "Fault";
            p.symbol = "fault";
            p.ranges.min = 0.0f;
            p.ranges.max = 4.0f;
            p.ranges.def = 0.0f;
        }
    }

    float getParameterValue(uint32_t index) const override
    {
        return index == 0 ? static_cast<float>(fDelay) : static_cast<float>(fFault);
    }

    void setParameterValue(uint32_t index, float value) override
    {
        const int v = static_cast<int>(value + 0.5f);
        if (index == 0)
        {
            fDelay = static_cast<uint32_t>(v < 0 ? 0 : v > 48000 ? 48000 : v);
            setLatency(fDelay);
        }
        else
        {
            fFault = v;
        }
    }

    void activate() override
    {
        for (std::vector<float>& b : fBuffer)
            std::fill(b.begin(), b.end(), 0.0f);
        fWrite = 0;
    }

    void run(const float** inputs, float** outputs, uint32_t frames) override
    {
        switch (fFault)
        {
        case 1:
            for (uint32_t c = 0; c < 2; ++c)
                for (uint32_t i = 0; i < frames; ++i)
                    outputs[c][i] = std::numeric_limits<float>::quiet_NaN();
            return;
        case 2:
            *static_cast<volatile int*>(nullptr) = 1;
            return;
        case 3:
            std::abort();
        case 4:
            for (volatile uint32_t spin = 0;; spin = spin + 1) {}
        }
        for (uint32_t c = 0; c < 2; ++c)
        {
            float* const buf = fBuffer[c].data();
            uint32_t w = fWrite;
            for (uint32_t i = 0; i < frames; ++i, ++w)
            {
                buf[w & kMask] = inputs[c][i];  // written first so a zero delay passes straight through
                outputs[c][i] = buf[(w - fDelay) & kMask];
            }
        }
        fWrite = (fWrite + frames) & kMask;
    }

private:
    uint32_t fDelay = 1234;
    int fFault = 0;
    uint32_t fWrite = 0;
    std::vector<float> fBuffer[2];
};

Plugin* createPlugin() { return new MtDelay(); }

END_NAMESPACE_DISTRHO
