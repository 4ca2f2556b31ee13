using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace SupportGrid.Grains;

/// <summary>
/// Part of a grain's state kept as numbered pages, each its own record in the grain storage, so that a change writes one
/// bounded page instead of the whole collection. A queue with 10,000 waiting customers or a channel with 5,000 events
/// then writes a few kilobytes per change, not megabytes.
/// </summary>
/// <remarks>
/// The grain's main state lists the page numbers in use and is written after the pages it refers to, so a crash in
/// between leaves at worst an unlisted page (ignored: the change was never acknowledged) or a listed page that was
/// emptied (read back as empty). Works with any <see cref="IGrainStorage"/> (SQLite standalone, Redis in a cluster).
/// </remarks>
public sealed class StatePages<TPage> where TPage : class, new()
{
    private readonly IGrainStorage _storage;
    private readonly GrainId _grainId;
    private readonly string _prefix;
    private readonly Dictionary<long, GrainState<TPage>> _pages = [];
    private readonly HashSet<long> _dirty = [];

    public StatePages(IServiceProvider services, GrainId grainId, string prefix)
    {
        _storage = services.GetRequiredKeyedService<IGrainStorage>(GrainStorage.Name);
        _grainId = grainId;
        _prefix = prefix;
    }

    /// <summary>Page numbers held (loaded or created).</summary>
    public IEnumerable<long> Numbers => _pages.Keys;

    /// <summary>Reads the listed pages (at activation).</summary>
    public async Task LoadAsync(IEnumerable<long> numbers)
    {
        var reads = numbers.Distinct().Select(async number =>
        {
            var page = new GrainState<TPage>(new TPage());
            await _storage.ReadStateAsync(Name(number), _grainId, page);
            page.State ??= new TPage();
            return (number, page);
        }).ToList();
        foreach (var (number, page) in await Task.WhenAll(reads))
            if (page.RecordExists)
                _pages[number] = page;
    }

    /// <summary>Reads one page; false if it does not exist.</summary>
    public async Task<bool> LoadAsync(long number)
    {
        await LoadAsync([number]);
        return _pages.ContainsKey(number);
    }

    /// <summary>The page, created empty if it does not exist; marked to be written.</summary>
    public TPage Change(long number)
    {
        _dirty.Add(number);
        if (!_pages.TryGetValue(number, out var page))
            _pages[number] = page = new GrainState<TPage>(new TPage());
        return page.State ??= new TPage();
    }

    /// <summary>Every held page, in page order.</summary>
    public IEnumerable<(long Number, TPage Page)> All() =>
        _pages.OrderBy(p => p.Key).Select(p => (p.Key, p.Value.State ?? new TPage()));

    /// <summary>Writes the changed pages; a changed page that <paramref name="isEmpty"/> is deleted and forgotten.</summary>
    public async Task WriteChangedAsync(Func<TPage, bool> isEmpty)
    {
        if (_dirty.Count == 0)
            return;
        // Everything is decided and serialized before the first await, so a reentrant grain may change pages meanwhile:
        // a page changed during the write is dirty again and goes with the next one.
        var writes = new List<Task>(_dirty.Count);
        foreach (var number in _dirty)
        {
            var page = _pages[number];
            if (page.State is null || isEmpty(page.State))
            {
                _pages.Remove(number);
                if (page.RecordExists)
                    writes.Add(_storage.ClearStateAsync(Name(number), _grainId, page));
            }
            else
            {
                writes.Add(_storage.WriteStateAsync(Name(number), _grainId, page));
            }
        }
        var written = _dirty.Where(_pages.ContainsKey).ToList();
        _dirty.Clear();
        try
        {
            await Task.WhenAll(writes);
        }
        catch
        {
            _dirty.UnionWith(written.Where(_pages.ContainsKey)); // tried again with the next write
            throw;
        }
    }

    private string Name(long number) => $"{_prefix}-{number}";
}
