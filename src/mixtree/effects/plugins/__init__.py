"""Third-party plugins: one host per format (LV2, CLAP, VST3) behind one interface."""
