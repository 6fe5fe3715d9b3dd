// mtgain: a stereo gain mixtree's plugin-host tests measure exactly.
#pragma once

#define DISTRHO_PLUGIN_BRAND "mixtree"
#define DISTRHO_PLUGIN_NAME "mtgain"
#define DISTRHO_PLUGIN_URI "urn:mixtree:test:mtgain"
#define DISTRHO_PLUGIN_CLAP_ID "org.mixtree.test.mtgain"
#define DISTRHO_PLUGIN_CLAP_FEATURES "audio-effect", "utility", "stereo"
#define DISTRHO_PLUGIN_VST3_CATEGORIES "Fx|Tools"
#define DISTRHO_PLUGIN_LV2_CATEGORY "lv2:AmplifierPlugin"
#define DISTRHO_PLUGIN_NUM_INPUTS 2
#define DISTRHO_PLUGIN_NUM_OUTPUTS 2
#define DISTRHO_PLUGIN_IS_RT_SAFE 1
#define DISTRHO_PLUGIN_WANT_STATE 1  // for the CLAP state extension (it saves the parameters)
