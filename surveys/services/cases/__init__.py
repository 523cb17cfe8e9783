"""Cases: a negative response given to one owner, and everything done with it until it closes.

The life of a case: `open` → `acknowledged` (one click, or the first reply)
→ `resolved` (with what was done; the customer gets the fix-check survey, now or
in the days the owner chose) →
`closed` when they say it worked, or when they do not answer within
`fix_check_days`. A "no" or "partly" sends it back to `acknowledged` with the
same owner. The worker escalates missed deadlines and closes unconfirmed fixes.

- `opening`: opening a case and giving it an owner, also to cases waiting for one.
- `queries`: finding cases (one, those waiting for an owner) and reading them.
- `conversation`: whom a case waits on, its timeline (the customer's answers first), its next step.
- `inbox`: a page of an owner's inbox under a filter ("needs me"…) or a search.
- `states`: what each status allows, and the refusals when it does not.
- `actions`: acknowledge, reply, note, reassign, resolve.
- `replies`: the two-part reply (what the owner understood, what they will do) and its letter.
- `fix_check`: asking the customer whether the fix worked, and acting on the answer.
- `deadlines`: the owner's next deadline, and escalating missed ones.
- `timeline`: the case's timeline and the row lock every change takes.
- `errors`: what an action raises when it cannot be done.
"""
