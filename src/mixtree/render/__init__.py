"""From model to sound: compile a project into a plan, run the plan block by block."""
