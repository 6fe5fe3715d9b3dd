// mtgain: output = input * 10^(gain_db / 20), the gain computed in double and applied in float.
#include "DistrhoPlugin.hpp"

#include <cmath>

START_NAMESPACE_DISTRHO

class MtGain : public Plugin
{
public:
    MtGain() : Plugin(1, 0, 0) {}

protected:
    const char* getLabel() const override { return "mtgain"; }
    const char* getDescription() const override { return "Stereo gain for mixtree's tests"; }
    const char* getMaker() const override { return "mixtree"; }
    const char* getLicense() const override { return "MIT"; }
    uint32_t getVersion() const override { return d_version(1, 0, 0); }
    int64_t getUniqueId() const override { return d_cconst('M', 't', 'G', 'n'); }

    void initParameter(uint32_t, Parameter& p) override
    {
        p.hints = kParameterIsAutomatable;
        p.name = "Gain dB";
        p.symbol = "gain_db";
        p.unit = "dB";
        p.ranges.min = -60.0f;
        p.ranges.max = 24.0f;
        p.ranges.def = 0.0f;
    }

    float getParameterValue(uint32_t) const override { return fGainDb; }

    void setParameterValue(uint32_t, float value) override
    {
        fGainDb = value;
        fGain = static_cast<float>(std::pow(10.0, value / 20.0));
    }

    void run(const float** inputs, float** outputs, uint32_t frames) override
    {
        for (uint32_t c = 0; c < 2; ++c)
            for (uint32_t i = 0; i < frames; ++i)
                outputs[c][i] = inputs[c][i] * fGain;
    }

private:
    float fGainDb = 0.0f;
    float fGain = 1.0f;
};

Plugin* createPlugin() { return new MtGain(); }

END_NAMESPACE_DISTRHO
