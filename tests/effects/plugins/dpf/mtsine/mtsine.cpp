// mtsine: a sine voice per note, amplitude velocity / 127 * 0.25, no envelope. A voice advances
// its phase before it sounds, so its first sample (the note-on frame) is already non-zero.
#include "DistrhoPlugin.hpp"

#include <cmath>

START_NAMESPACE_DISTRHO

class MtSine : public Plugin
{
public:
    MtSine() : Plugin(0, 0, 0) {}

protected:
    const char* getLabel() const override { return "mtsine"; }
    const char* getDescription() const override { return "Sine instrument for mixtree's tests"; }
    const char* getMaker() const override { return "mixtree"; }
    const char* getLicense() const override { return "MIT"; }
    uint32_t getVersion() const override { return d_version(1, 0, 0); }
    int64_t getUniqueId() const override { return d_cconst('M', 't', 'S', 'n'); }

    void activate() override
    {
        for (int n = 0; n < 128; ++n)
            fAmp[n] = fPhase[n] = 0.0;
    }

    void run(const float**, float** outputs, uint32_t frames, const MidiEvent* events, uint32_t count) override
    {
        uint32_t e = 0;
        for (uint32_t i = 0; i < frames; ++i)
        {
            for (; e < count && events[e].frame <= i; ++e)
                handle(events[e]);
            double sum = 0.0;
            for (int n = 0; n < 128; ++n)
            {
                if (fAmp[n] == 0.0)
                    continue;
                fPhase[n] += 2.0 * M_PI * 440.0 * std::pow(2.0, (n - 69) / 12.0) / getSampleRate();
                sum += fAmp[n] * std::sin(fPhase[n]);
            }
            outputs[0][i] = outputs[1][i] = static_cast<float>(sum);
        }
        for (; e < count; ++e)
            handle(events[e]);
    }

private:
    void handle(const MidiEvent& ev)
    {
        if (ev.size != 3)
            return;
        const uint8_t status = ev.data[0] & 0xf0, note = ev.data[1] & 0x7f, velocity = ev.data[2] & 0x7f;
        if (status == 0x90 && velocity != 0)
        {
            fAmp[note] = velocity / 127.0 * 0.25;
            fPhase[note] = 0.0;
        }
        else if (status == 0x80 || status == 0x90)
        {
            fAmp[note] = 0.0;
        }
    }

    double fAmp[128] = {};
    double fPhase[128] = {};
};

Plugin* createPlugin() { return new MtSine(); }

END_NAMESPACE_DISTRHO
