"""The synthetic data sets the repository ships, and their generators (scripts/make_*_data.py
write them; the tests check that the shipped files are exactly what they generate):

- demo.py            clinical case reports in English and German with the 15-field gold
                     summaries (data/demo); its vocabulary and templates: demo_vocabulary.py
- adverse_events.py  adverse-event emails with the suspected drug and side effects
                     (data/adverse_events)
- medqa.py           medical questions over a passage collection (data/medqa_*)

The pipeline itself never imports them: only scripts, tests and benchmarks do.
"""
